// The step runner against the sandbox, for language features the product's specs use little:
// JSON patch, forEach, creating core objects, redaction of Secret values, and the namespace policy
// on every namespace a step touches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startSandbox, type Sandbox } from '../runtime/sandbox/index.ts';
import { Kube } from '../runtime/k8s/client.ts';
import { createLogger } from '../runtime/logger.ts';
import { runTool, type ServerState } from '../runtime/pipeline.ts';
import { selectTools } from '../runtime/server.ts';
import type { Operation, ToolDescriptor } from '../generated/index.ts';

let sb: Sandbox;
let state: ServerState;
const kube = () => state.kube;

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const { log, ring } = createLogger({ level: 'INFO', format: 'json', destination: new Writable({ write(_c, _e, done) { done(); } }) });
  const tools = selectTools({ persona: 'platform-admin', clients: ['trainer'], policy: {} });
  state = { kube: new Kube({ kubeconfigYaml: sb.kubeconfig }), persona: 'platform-admin', bypassOwnership: true, policy: {}, log, ring, startedAt: Date.now(), version: 'test', tools: new Map(tools.map((t) => [t.name, t])), allTools: tools };
});
afterAll(() => sb?.stop());

/** A tool made of the given steps, on the frame of a real descriptor, served by the real pipeline. */
async function run(operation: Operation, args: Record<string, unknown>, over: Partial<ToolDescriptor<any>> = {}, policy = {}) {
  const base = state.tools.get(over.confirm ? 'update_training_job' : 'get_training_job')!;
  const tool = { ...base, name: 'probe', custom: false, guard: null, operation, validator: async () => Object.assign((_: unknown) => true, { errors: null }), ...over };
  return runTool({ ...state, policy, tools: new Map([['probe', tool]]) }, 'probe', args);
}

describe('declarative steps', () => {
  it('applies a JSON patch, dry-run first and for real after confirmation', async () => {
    const op: Operation = {
      steps: [{ id: 'p', patch: 'clustertrainingruntimes', name: 'input.name', patchType: 'json', body: "[{'op': 'add', 'path': '/metadata/annotations', 'value': {'probe': 'yes'}}]" }],
      preview: { message: "'would patch'", fields: { after: 'p.metadata.annotations' } },
      output: { after: 'p.metadata.annotations' },
    };
    const preview = await run(op, { name: 'jax-distributed' }, { confirm: true, namespaced: false });
    expect(preview).toMatchObject({ status: 'preview', config: { after: { probe: 'yes' } } });
    expect((await kube().get('clustertrainingruntimes', 'jax-distributed')).metadata.annotations?.probe).toBeUndefined();
    const done = await run(op, { name: 'jax-distributed', confirmed: true }, { confirm: true, namespaced: false });
    expect(done).toMatchObject({ success: true, data: { after: { probe: 'yes' } } });
    expect((await kube().get('clustertrainingruntimes', 'jax-distributed')).metadata.annotations.probe).toBe('yes');
  });

  it('runs a step once per element with forEach, and creates core objects', async () => {
    const op: Operation = {
      steps: [
        { id: 'made', create: 'configmaps', body: "{'metadata': {'name': 'probe-cm'}, 'data': {'k': input.value}}" },
        { id: 'lists', list: 'configmaps', forEach: "['default', 'ml-team']", namespace: 'each' },
      ],
      preview: { message: "'would create'", fields: { name: 'made.metadata.name' } },
      output: { created: 'made.data.k', per_namespace: 'lists.map(l, size(l.items))' },
    };
    const out: any = await run(op, { value: 'v1', confirmed: true }, { confirm: true, namespaced: true });
    expect(out.success).toBe(true);
    expect(out.data.created).toBe('v1');
    expect(out.data.per_namespace).toHaveLength(2);
    expect((await kube().get('configmaps', 'probe-cm', 'default')).data).toEqual({ k: 'v1' });
  });

  it('never lets an expression see Secret values', async () => {
    await kube().create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-secret' }, stringData: { token: 'hf_SuperSecretValue' } }, 'default');
    const out: any = await run({ steps: [{ id: 's', get: 'secrets', name: "'probe-secret'" }], output: { data: 's.data' } }, {}, { namespaced: true });
    expect(out.data.data).toEqual({ token: '***' });
    expect(JSON.stringify(out)).not.toContain('SuperSecret');
    expect(JSON.stringify(out)).not.toContain(Buffer.from('hf_SuperSecretValue').toString('base64'));
  });

  it('checks every namespace a step touches against the policy', async () => {
    const op: Operation = { steps: [{ id: 'l', list: 'pods', namespace: "'kube-system'" }], output: { n: 'size(l.items)' } };
    const out = await run(op, { namespace: 'ml-team' }, { namespaced: true }, { policy: { namespaces: ['ml-team'] } });
    expect(out).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
    const each = await run({ steps: [{ id: 'l', list: 'pods', forEach: "['ml-team', 'default']", namespace: 'each' }], output: { n: 'size(l)' } }, { namespace: 'ml-team' }, { namespaced: true }, { policy: { namespaces: ['ml-team'] } });
    expect(each).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
  });

  it('reports a failing expression as an internal error naming the tool and the place', async () => {
    const out: any = await run({ steps: [{ id: 'x', let: 'input.missing + 1' }], output: { x: 'x' } }, {});
    expect(out).toMatchObject({ success: false, error_code: 'INTERNAL_ERROR' });
    expect(out.error).toContain('probe steps.x');
  });
});
