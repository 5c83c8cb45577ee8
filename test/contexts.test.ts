// Several clusters from one kubeconfig, through a real MCP client: the context input and
// list_contexts appear only when the policy allows several contexts, a call runs wholly on the
// context it names, a context the policy does not allow is refused, --context picks the default,
// and an edited kubeconfig is read again without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

let east: Sandbox, west: Sandbox;
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-contexts-'));
const kubeconfig = join(dir, 'kubeconfig');
const opened: Connected[] = [];

/** One kubeconfig with a context per sandbox (east first, the current one). */
function twoClusters(eastUrlFor = () => east, westUrlFor = () => west) {
  const one = (sb: Sandbox, name: string) => {
    const kc = parse(sb.kubeconfig);
    return {
      cluster: { ...kc.clusters[0], name },
      user: { ...kc.users[0], name: `${name}-user` },
      context: { name, context: { cluster: name, user: `${name}-user`, namespace: 'default' } },
    };
  };
  const e = one(eastUrlFor(), 'east'),
    w = one(westUrlFor(), 'west');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'east',
    clusters: [e.cluster, w.cluster],
    users: [e.user, w.user],
    contexts: [e.context, w.context],
  });
}

async function open(args: string[], policy?: string) {
  const env: Record<string, string> = {};
  if (policy) {
    const p = join(dir, `policy-${opened.length}.yaml`);
    writeFileSync(p, policy);
    env.KUBEFLOW_MCP_POLICY = p;
  }
  const c = await connect(['--kubeconfig', kubeconfig, '--persona', 'platform-admin', ...args], env);
  opened.push(c);
  return c;
}
const jobsIn = (sb: Sandbox) => sb.store.list(typeNamed('trainjobs'), 'default').map((j: any) => j.metadata.name);

beforeAll(async () => {
  [east, west] = await Promise.all([startSandbox({ timeScale: 0.02 }), startSandbox({ timeScale: 0.02 })]);
  writeFileSync(kubeconfig, twoClusters());
});
afterAll(async () => {
  for (const c of opened) await c.close();
  await east?.stop();
  await west?.stop();
});

describe('several clusters', () => {
  it('offers the context input and list_contexts only when the policy allows several contexts', async () => {
    const single = await open([]);
    const plain = (await single.client.listTools()).tools;
    expect(plain.map((t) => t.name)).not.toContain('list_contexts');
    expect(Object.keys(plain.find((t) => t.name === 'list_training_jobs')!.inputSchema.properties ?? {})).not.toContain(
      'context',
    );
    // Without the policy's leave, another context is refused, even when named directly.
    expect(await call(single.client, 'list_training_jobs', { context: 'west' })).toMatchObject({
      success: false,
      error_code: 'PERMISSION_DENIED',
    });

    const multi = await open([], 'policy:\n  contexts: [east, west]\n');
    const tools = (await multi.client.listTools()).tools;
    expect(tools.map((t) => t.name)).toContain('list_contexts');
    expect((tools.find((t) => t.name === 'list_training_jobs')!.inputSchema.properties as any).context).toMatchObject({
      enum: ['east', 'west'],
    });
    // Tools that never reach Kubernetes get no context input.
    expect(Object.keys(tools.find((t) => t.name === 'estimate_resources')!.inputSchema.properties ?? {})).not.toContain(
      'context',
    );
    const listed = (await call(multi.client, 'list_contexts')).data;
    expect(listed).toMatchObject({ count: 2, default: 'east' });
    expect(listed.contexts.map((c: any) => [c.name, c.server])).toEqual([
      ['east', east.url],
      ['west', west.url],
    ]);
  });

  it('describes the context input the same way in progressive mode', async () => {
    const describe = async (policy?: string) => {
      const c = await open(['--mode', 'progressive'], policy);
      return (await call(c.client, 'describe_tools', { names: ['list_training_jobs'] })).data.tools[0].input_schema
        .properties;
    };
    expect(await describe()).not.toHaveProperty('context');
    expect((await describe('policy:\n  contexts: [east, west]\n')).context).toMatchObject({
      type: 'string',
      enum: ['east', 'west'],
    });
  });

  it('runs a call wholly on the context it names, and refuses one the policy does not allow', async () => {
    const multi = await open([], 'policy:\n  contexts: [east, west]\n');
    const job = { script: 'print(1)', runtime: 'torch-distributed', gpu_per_node: 0, confirmed: true };
    expect(
      (await call(multi.client, 'run_custom_training', { ...job, name: 'on-west', context: 'west' })).success,
    ).toBe(true);
    expect((await call(multi.client, 'run_custom_training', { ...job, name: 'on-east' })).success).toBe(true);
    expect(jobsIn(west)).toContain('on-west');
    expect(jobsIn(west)).not.toContain('on-east');
    expect(jobsIn(east)).toEqual(expect.arrayContaining(['on-east']));
    expect(jobsIn(east)).not.toContain('on-west');
    const westJobs = (await call(multi.client, 'list_training_jobs', { context: 'west' })).data.jobs.map(
      (j: any) => j.name,
    );
    expect(westJobs).toEqual(['on-west']);
    expect(await call(multi.client, 'list_training_jobs', { context: 'north' })).toMatchObject({
      success: false,
      error_code: 'PERMISSION_DENIED',
    });
    expect(await call(multi.client, 'list_training_jobs', { context: 'east\nwest' })).toMatchObject({
      success: false,
      error_code: 'VALIDATION_ERROR',
    });
  });

  it('takes its default context from --context', async () => {
    const c = await open(['--context', 'west']);
    expect((await call(c.client, 'list_training_jobs')).data.jobs.map((j: any) => j.name)).toContain('on-west');
  });

  it('reads an edited kubeconfig again without a restart', async () => {
    const c = await open([]);
    expect((await call(c.client, 'list_training_jobs')).data.jobs.map((j: any) => j.name)).not.toContain('on-west');
    // The east context now points at the west cluster.
    writeFileSync(
      kubeconfig,
      twoClusters(() => west),
    );
    let names: string[] = [];
    for (let i = 0; i < 40 && !names.includes('on-west'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      names = (await call(c.client, 'list_training_jobs')).data.jobs.map((j: any) => j.name);
    }
    expect(names).toContain('on-west');
  });
});
