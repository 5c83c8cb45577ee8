// The call pipeline in-process, against the sandbox: the preview gate holds even for a handler that
// tries to write, and validation runs before anything reaches Kubernetes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { runTool } from '../runtime/pipeline.ts';
import type { ServerState } from '../runtime/context.ts';
import { inProcessState } from './helpers/in-process.ts';
import { ManualClock } from '../runtime/clock.ts';
import { RateLimiter } from '../runtime/rate-limit.ts';

let sb: Sandbox;
let state: ServerState;

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  state = inProcessState(sb.kubeconfig);
});
afterAll(() => sb?.stop());

describe('call pipeline', () => {
  it('limits each caller to its rate and burst, before validating, refilling with time', async () => {
    const clock = new ManualClock();
    const limited = { ...state, clock, limiter: new RateLimiter(2, 3) };
    const call = (i: number, caller = 'a') =>
      runTool(
        limited,
        i % 2 ? 'get_training_job' : 'estimate_resources',
        i % 2 ? { name: 'Bad_Name' } : { model: 'google/gemma-2b' },
        { caller },
      );
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await call(i));
    expect(results.map((r) => r.error_code ?? 'ok')).toEqual([
      'ok',
      'VALIDATION_ERROR',
      'ok',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
    expect((results[3].details as any).retry_after_seconds).toBe(0.5);
    expect((await call(0, 'b')).success).toBe(true); // another caller has its own bucket
    clock.advance(499);
    expect((await call(0)).error_code).toBe('RATE_LIMITED');
    clock.advance(1);
    expect((await call(0)).success).toBe(true);
    expect((await call(0)).error_code).toBe('RATE_LIMITED');
  });

  it('refuses a real write from a handler before confirmation (only dry runs pass)', async () => {
    const tool = state.tools.get('create_runtime')!;
    const sneaky = { ...tool, custom: true };
    const write = async () => ({
      default: async (_i: any, ctx: any) =>
        ctx.kube.create('clustertrainingruntimes', {
          apiVersion: 'trainer.kubeflow.org/v1alpha1',
          kind: 'ClusterTrainingRuntime',
          metadata: { name: 'sneaky', labels: { 'trainer.kubeflow.org/framework': 'torch' } },
          spec: { template: {} },
        }),
    });
    const s2 = {
      ...state,
      tools: new Map([...state.tools, ['create_runtime', sneaky]]),
      handlers: { create_runtime: write },
    };
    const r = await runTool(s2, 'create_runtime', { name: 'sneaky', framework: 'torch', spec: { template: {} } });
    expect(r).toMatchObject({ success: false, error_code: 'INTERNAL_ERROR' });
    expect(String(r.error)).toContain('only dry runs are allowed');
    const rts = await state.kube.list('clustertrainingruntimes');
    expect(rts.items.map((x) => x.metadata.name)).not.toContain('sneaky');
  });

  it('rejects invalid input without a single API request', async () => {
    const before = sb.requests();
    const r = await runTool(state, 'fine_tune', { model: 'gemma', dataset: 'alpaca', confirmed: true });
    expect(r).toMatchObject({ success: false, error_code: 'VALIDATION_ERROR' });
    expect((r.details as any).problems.map((p: any) => p.field)).toEqual(expect.arrayContaining(['model', 'dataset']));
    expect(sb.requests()).toBe(before);
  });

  it('never deletes or patches a job swapped in after the ownership check (uid precondition)', async () => {
    const body = () => ({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'swap-me', labels: { 'kubeflow-mcp/managed-by': 'mcp' } },
      spec: {
        runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torch-distributed' },
        suspend: true,
      },
    });
    const kube = state.kube;
    const owner = await state.localOwner();
    // Created as the server creates jobs: with an ownership proof for this caller.
    const createOwned = async () =>
      state.ownership.claim(kube, 'trainjobs', await kube.create('trainjobs', body(), 'default'), owner, 'default');
    // Between the guard's read and the write, the job is replaced by another of the same name.
    const racing = Object.create(kube) as typeof kube;
    racing.get = async (resource: string, name: string, ns?: string) => {
      const o = await kube.get(resource, name, ns);
      if (resource === 'trainjobs' && name === 'swap-me') {
        await kube.remove('trainjobs', 'swap-me', 'default');
        await createOwned();
      }
      return o;
    };
    const ds = { ...state, kube: racing, persona: 'data-scientist', bypassOwnership: false };
    for (const [tool, args] of [
      ['delete_training_job', { name: 'swap-me' }],
      ['update_training_job', { name: 'swap-me', action: 'resume' }],
    ] as const) {
      await createOwned().catch(() => {});
      const before = (await kube.get('trainjobs', 'swap-me', 'default')).metadata.uid;
      const r = await runTool(ds, tool, { ...args, confirmed: true });
      expect(r, tool).toMatchObject({ success: false, error_code: 'CONFLICT' });
      const now = await kube.get('trainjobs', 'swap-me', 'default');
      expect(now.metadata.uid).not.toBe(before);
      expect(now.spec.suspend).toBe(true);
    }
  });

  it('says whether an unknown tool does not exist or is hidden from the persona', async () => {
    expect(await runTool({ ...state, tools: new Map() }, 'fine_tune', {})).toMatchObject({
      error_code: 'PERMISSION_DENIED',
    });
    expect(await runTool(state, 'make_coffee', {})).toMatchObject({ error_code: 'VALIDATION_ERROR' });
  });
});
