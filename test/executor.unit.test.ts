// The step runner against the sandbox, for language features the product's specs use little:
// JSON patch, forEach, creating core objects, redaction of Secret values, and the namespace policy
// on every namespace a step touches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { runTool } from '../runtime/pipeline.ts';
import type { ServerState } from '../runtime/context.ts';
import { inProcessState } from './helpers/in-process.ts';
import { driveClock } from './helpers/clock.ts';
import { ManualClock } from '../runtime/clock.ts';
import type { Operation, ToolDescriptor } from '../generated/index.ts';
import { typeNamed } from '../sandbox/resources.ts';

let sb: Sandbox;
let state: ServerState;
const kube = () => state.kube;

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  state = inProcessState(sb.kubeconfig);
});
afterAll(() => sb?.stop());

/** A tool made of the given steps, on the frame of a real descriptor, served by the real pipeline. */
async function run(
  operation: Operation,
  args: Record<string, unknown>,
  over: Partial<ToolDescriptor<any>> = {},
  policy = {},
) {
  const base = state.tools.get(over.confirm ? 'update_training_job' : 'get_training_job')!;
  const tool = {
    ...base,
    name: 'probe',
    custom: false,
    guard: null,
    operation,
    validator: async () => Object.assign((_: unknown) => true, { errors: null }),
    ...over,
  };
  return runTool({ ...state, policy, tools: new Map([['probe', tool]]) }, 'probe', args);
}

describe('declarative steps', () => {
  it('applies a JSON patch, dry-run first and for real after confirmation', async () => {
    const op: Operation = {
      steps: [
        {
          id: 'p',
          patch: 'clustertrainingruntimes',
          name: 'input.name',
          patchType: 'json',
          body: "[{'op': 'add', 'path': '/metadata/annotations', 'value': {'probe': 'yes'}}]",
        },
      ],
      preview: { message: "'would patch'", fields: { after: 'p.metadata.annotations' } },
      output: { after: 'p.metadata.annotations' },
    };
    const preview = await run(op, { name: 'jax-distributed' }, { confirm: true, namespaced: false });
    expect(preview).toMatchObject({ status: 'preview', config: { after: { probe: 'yes' } } });
    expect(
      (await kube().get('clustertrainingruntimes', 'jax-distributed')).metadata.annotations?.probe,
    ).toBeUndefined();
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

  it('writes at once for a tool with a written confirm waiver, and previews only when confirm-gated', async () => {
    const op: Operation = {
      steps: [{ id: 'made', create: 'configmaps', body: "{'metadata': {'name': 'waived-cm'}, 'data': {'k': 'v'}}" }],
      preview: { message: "'would create'", fields: {} },
      output: { name: 'made.metadata.name' },
    };
    const out: any = await run(op, {}, { confirm: false, namespaced: true });
    expect(out).toMatchObject({ success: true, data: { name: 'waived-cm' } });
    expect((await kube().get('configmaps', 'waived-cm', 'default')).data).toEqual({ k: 'v' });
  });

  it('polls until its condition holds or time is up, with increasing progress, and stops at once when cancelled', async () => {
    const op: Operation = {
      steps: [{ id: 'nodes', list: 'nodes' }],
      poll: {
        every: '0.05',
        timeout: '0.4',
        until: 'size(nodes.items) > 100',
        progress: { value: 'size(nodes.items)', total: '100', message: "'nodes'" },
      },
      output: { timed_out: 'poll.timed_out', polls: 'poll.polls', waited: 'poll.waited_seconds' },
    };
    const clock = new ManualClock();
    const progress: number[] = [];
    const run2 = async (signal?: AbortSignal) => {
      const base = state.tools.get('get_training_job')!;
      const tool = {
        ...base,
        name: 'probe',
        custom: false,
        guard: null,
        namespaced: false,
        operation: op,
        validator: async () => Object.assign((_: unknown) => true, { errors: null }),
      };
      return runTool(
        { ...state, clock, tools: new Map([['probe', tool]]) },
        'probe',
        {},
        {
          progress: async (p) => {
            progress.push(p);
          },
          signal,
        },
      );
    };
    const out: any = await driveClock(clock, run2());
    // Rounds at 0, 0.05, ... 0.4 s of clock time: the last one at the deadline, then time is up.
    expect(out.data).toMatchObject({ timed_out: true, polls: 9, waited: 0.4 });
    expect(progress).toEqual([4]); // the node count never changed, so one notification
    const ac = new AbortController();
    const cancelled = run2(ac.signal);
    while (!clock.sleeping) await new Promise((r) => setTimeout(r, 1));
    const asleepAt = clock.now();
    ac.abort();
    expect(((await cancelled) as any).error_code).toBe('CANCELLED');
    expect(clock.now()).toBe(asleepAt); // stopped while asleep, without waiting out its round
  });

  it('never lets an expression see Secret values', async () => {
    await kube().create(
      'secrets',
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'probe-secret' },
        stringData: { token: 'hf_SuperSecretValue' },
      },
      'default',
    );
    const out: any = await run(
      { steps: [{ id: 's', get: 'secrets', name: "'probe-secret'" }], output: { data: 's.data' } },
      {},
      { namespaced: true },
    );
    expect(out.data.data).toEqual({ token: '***' });
    expect(JSON.stringify(out)).not.toContain('SuperSecret');
    expect(JSON.stringify(out)).not.toContain(Buffer.from('hf_SuperSecretValue').toString('base64'));
  });

  it('checks every namespace a step touches against the policy', async () => {
    const op: Operation = {
      steps: [{ id: 'l', list: 'pods', namespace: "'kube-system'" }],
      output: { n: 'size(l.items)' },
    };
    const out = await run(op, { namespace: 'ml-team' }, { namespaced: true }, { policy: { namespaces: ['ml-team'] } });
    expect(out).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
    const each = await run(
      {
        steps: [{ id: 'l', list: 'pods', forEach: "['ml-team', 'default']", namespace: 'each' }],
        output: { n: 'size(l)' },
      },
      { namespace: 'ml-team' },
      { namespaced: true },
      { policy: { namespaces: ['ml-team'] } },
    );
    expect(each).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
  });

  it('reads only the events of the job asked about, in a bounded number of requests', async () => {
    const ev = typeNamed('events');
    // 3,000 events of other objects, some named like the job with a suffix (another job "bounded-2").
    for (let i = 0; i < 3000; i++) {
      const name = i % 3 === 0 ? `bounded-2-node-0-0-x${i}` : `other-${i}`;
      sb.store.create(ev, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `e${i}`, namespace: 'default' },
        involvedObject: { kind: 'Pod', name, namespace: 'default' },
        reason: 'Noise',
        message: 'unrelated',
        type: 'Warning',
        count: 1,
        firstTimestamp: '2026-01-01T00:00:00Z',
      });
    }
    await kube().create(
      'trainjobs',
      {
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'bounded' },
        spec: {
          runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torch-distributed' },
        },
      },
      'default',
    );
    for (
      let i = 0;
      i < 100 &&
      !(await kube().list('pods', { namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=bounded' }))
        .items.length;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const before = sb.requests();
    const out: any = await runTool(state, 'get_training_events', { name: 'bounded', namespace: 'default', limit: 500 });
    expect(out.success, JSON.stringify(out).slice(0, 300)).toBe(true);
    expect(sb.requests() - before).toBeLessThanOrEqual(24);
    expect(out.data.events.length).toBeGreaterThan(0);
    expect(
      out.data.events.every(
        (e: any) => e.involved_object_name === 'bounded' || e.involved_object_name.startsWith('bounded-node'),
      ),
    ).toBe(true);
    expect(out.data.events.some((e: any) => e.reason === 'Noise')).toBe(false);
  });

  it('bounds the delete_runtime preview however many jobs use the runtime, with the count', async () => {
    for (let i = 0; i < 70; i++) {
      await kube().create(
        'trainjobs',
        {
          apiVersion: 'trainer.kubeflow.org/v1alpha1',
          kind: 'TrainJob',
          metadata: { name: `dep-${i}` },
          spec: {
            runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'mlx-distributed' },
            suspend: true,
          },
        },
        'default',
      );
    }
    const out: any = await runTool(state, 'delete_runtime', { name: 'mlx-distributed' });
    expect(out.status).toBe('preview');
    expect(out.config.dependent_count).toBe(70);
    expect(out.config.dependent_jobs).toHaveLength(50);
    expect(JSON.stringify(out).length).toBeLessThan(6000);
  });

  it('reports a failing expression as an internal error naming the tool and the place', async () => {
    const out: any = await run({ steps: [{ id: 'x', let: 'input.missing + 1' }], output: { x: 'x' } }, {});
    expect(out).toMatchObject({ success: false, error_code: 'INTERNAL_ERROR' });
    expect(out.error).toContain('probe steps.x');
  });
});
