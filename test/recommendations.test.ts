// Recommendations that are true of this cluster and this model, through a real MCP client on the
// sandbox: GPUs counted per resource name (the vendor the job requests), a torchtune runtime only
// when its recipe is for the model's family, version and size (else the generic path), GPU plans
// and unschedulable fixes only in shapes whose nodes are all free at once, and the hint for a gated
// model submitted without a token. One test per mechanism.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { defaultSeed } from '../sandbox/seed.ts';
import { feasibleShape, shapeFix, REQUEST_ANNOTATION } from '../runtime/trainer/fixes.ts';
import { missingTokenDiagnosis } from '../runtime/trainer/failure-hints.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

// Each test starts its own sandbox and server; a busy machine may need more than the default.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const started: Array<{ s: Sandbox; c: Connected }> = [];
async function sandboxAndServer(seed?: any[], persona = 'ml-engineer') {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-rec-'));
  let stateFile: string | undefined;
  if (seed) {
    stateFile = join(dir, 'state.yaml');
    writeFileSync(stateFile, stringify(seed));
  }
  const s = await startSandbox({ timeScale: 0.02, ...(stateFile ? { stateFile } : {}) });
  writeFileSync(join(dir, 'kc'), s.kubeconfig);
  const c = await connect(['--kubeconfig', join(dir, 'kc'), '--persona', persona], { KUBEFLOW_MCP_OFFLINE: '1' });
  started.push({ s, c });
  return { s, c };
}
afterAll(async () => {
  for (const { s, c } of started) {
    await c.close();
    await s.stop();
  }
});

/** A Ready node with accelerators, as the sandbox's seed shapes them. */
function gpuNode(name: string, extra: Record<string, string>, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels } },
    status: {
      capacity: { cpu: '32', memory: '256Gi', pods: '110', ...extra },
      allocatable: { cpu: '32', memory: '256Gi', pods: '110', ...extra },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}
const nonNodes = () => defaultSeed().filter((o: any) => o.kind !== 'Node');
const cpuNode = () => defaultSeed().find((o: any) => o.kind === 'Node' && o.metadata.name === 'cpu-node-1');

describe('GPUs counted by the resource name the job requests', () => {
  it('counts NVIDIA and AMD apart, on nodes created over the API, and says which the job can use', async () => {
    const { s, c } = await sandboxAndServer();
    const kc = new k8s.KubeConfig();
    kc.loadFromString(s.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const name of ['gpu-node-mi300-2', 'gpu-node-mi300-3'])
      await core.createNode({
        body: gpuNode(name, { 'amd.com/gpu': '4' }, { 'amd.com/gpu.product-name': 'AMD_Instinct_MI300X' }) as any,
      });
    const res = await call(c.client, 'get_cluster_resources');
    expect(res.data.gpu_free_by_resource).toEqual({ 'nvidia.com/gpu': 6, 'amd.com/gpu': 10 });
    expect(res.data.gpu_note).toMatch(/one of them by name/);

    const pre = await call(c.client, 'pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' });
    expect(pre.data.cluster).toMatchObject({
      gpu_resource: 'nvidia.com/gpu',
      gpu_total: 6,
      gpu_free: 6,
      other_gpus_free: { 'amd.com/gpu': 10 },
    });
    expect(pre.data.tool_selection.reason).toContain('6 nvidia.com/gpu free');
    expect(JSON.stringify(pre.data.tool_selection)).not.toMatch(/\b16\b/);

    // With only AMD GPUs, nothing that asks for nvidia.com/gpu is offered as if it would run.
    const amdOnly = await sandboxAndServer([
      ...nonNodes(),
      cpuNode(),
      gpuNode('gpu-node-mi300-1', { 'amd.com/gpu': '8' }),
    ]);
    const a = await call(amdOnly.c.client, 'pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' });
    expect(a.data.cluster).toMatchObject({
      gpu_resource: 'nvidia.com/gpu',
      gpu_total: 0,
      gpu_free: 0,
      other_gpus_free: { 'amd.com/gpu': 8 },
    });
    expect(a.data.tool_selection.recommended).not.toBe('fine_tune');
    expect(a.data.tool_selection.reason).toMatch(/no nvidia\.com\/gpu.*8 amd\.com\/gpu/);
    expect(a.data.next_steps.join(' ')).toMatch(/No nvidia\.com\/gpu detected/);
    const preview = await call(amdOnly.c.client, 'fine_tune', {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      hf_token: 'hf_x',
    });
    expect(preview.config.warnings.join(' ')).toMatch(
      /asks for nvidia\.com\/gpu, which no node has \(the cluster has 8 amd\.com\/gpu free\)/,
    );
  });
});

describe('runtimes recommended only when their recipe fits the model', () => {
  let c: Connected;
  beforeAll(async () => {
    ({ c } = await sandboxAndServer(undefined, 'platform-admin'));
  });

  // model -> the torchtune runtime whose recipe is for it, or null: no installed recipe fits.
  const CASES: Array<[string, string | null]> = [
    ['meta-llama/Llama-3.2-1B-Instruct', 'torchtune-llama3.2-1b'],
    ['hf://meta-llama/Llama-3.2-3B', 'torchtune-llama3.2-3b'],
    ['Qwen/Qwen2.5-1.5B-Instruct', 'torchtune-qwen2.5-1.5b'],
    ['google/gemma-2b', null], // another family
    ['meta-llama/Llama-3.1-8B', null], // the family, another version
    ['Qwen/Qwen2.5-7B', null], // the family and version, another size
    ['acme/my-private-13b', null], // family unknown
  ];
  it('gives a family with no runtime the generic path instead of the first runtime', async () => {
    for (const [model, runtime] of CASES) {
      const r = await call(c.client, 'pre_flight', { model });
      const sel = r.data.tool_selection;
      if (runtime) {
        expect(sel, model).toMatchObject({ recommended: 'fine_tune', runtime, confidence: 'high' });
        continue;
      }
      expect(sel.recommended, model).toBe('run_custom_training');
      expect(sel.runtime, model).toBe('torch-distributed');
      expect(sel.fine_tune_runtime, model).toBeNull();
      expect(sel.reason, model).toMatch(/no installed torchtune runtime has a recipe for/);
      expect(sel.alternatives, model).toEqual([expect.objectContaining({ tool: 'create_runtime' })]);
      expect(
        r.data.runtimes.filter((x: any) => x.framework === 'torchtune').every((x: any) => x.fits_model !== 'fits'),
        model,
      ).toBe(true);
      expect(r.data.next_steps.join(' '), model).not.toMatch(/torchtune-/);
      // The answer never names the tool that is answering as a next call.
      expect(JSON.stringify(r.data), model).not.toMatch(/pre_flight\(/);
    }
  });
});

describe('GPU plans and fixes that the cluster can run now', () => {
  it('counts nodes that each fit the per-node request at the same time, and offers only shapes that do', async () => {
    // One node with 4 A100s (80 GB) and one CPU node.
    const a100 = defaultSeed().find((o: any) => o.kind === 'Node' && o.metadata.name === 'gpu-node-a100-1');
    const { c } = await sandboxAndServer([...nonNodes(), cpuNode(), a100]);
    const pre = await call(c.client, 'pre_flight', { model: 'meta-llama/Llama-3.1-70B', num_workers: 4 });
    expect(pre.data.placement).toMatchObject({
      resource: 'nvidia.com/gpu',
      nodes: 4,
      nodes_that_fit_now: 1,
      feasible_now: false,
    });
    const said = pre.data.next_steps.join(' ');
    expect(said).toMatch(/4 nodes are needed at once.*only 1 has that now/);
    expect(said).toMatch(/fewer nodes: 1 node can each take the model now/);
    expect(said).not.toMatch(/on 4 nodes/);
    // The same plan on one node fits.
    const one = await call(c.client, 'pre_flight', { model: 'meta-llama/Llama-3.1-70B' });
    expect(one.data.placement).toMatchObject({ nodes: 1, feasible_now: true });

    // A job of 2 nodes x 8 GPUs that cannot be scheduled: the fix is the one shape that fits now
    // (4 GPUs on the one node), never "4 per node on 4 nodes".
    await call(c.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 8,
      num_nodes: 2,
      name: 'wide',
      confirmed: true,
    });
    const w = await call(c.client, 'wait_for_training', {
      name: 'wide',
      timeout_seconds: 60,
      polling_interval: 0.1,
      unschedulable_grace_seconds: 1,
    });
    expect(w.data.stopped_because).toBe('unschedulable');
    expect(w.data.fix.arguments).toMatchObject({ gpu_per_node: 4, num_nodes: 1 });
    expect(w.data.fix.change).toMatch(/4 nvidia\.com\/gpu in all instead of 16/);
    expect(w.data.fix.note).toMatch(/quantize_base=true|smaller model/);

    // The shapes themselves, for node lists the sandbox run above does not cover.
    const job = (nodes: number, gpus: number, tool = 'run_container_training') => ({
      metadata: {
        annotations: {
          [REQUEST_ANNOTATION]: JSON.stringify({
            tool,
            arguments: { image: 'busybox', gpu_per_node: gpus, num_nodes: nodes },
          }),
        },
      },
      spec: { trainer: { numNodes: nodes, resourcesPerNode: { limits: { 'nvidia.com/gpu': gpus } } } },
    });
    expect(shapeFix(job(2, 8), { 'nvidia.com/gpu': [4, 4, 4, 4] })!.arguments).toMatchObject({
      gpu_per_node: 4,
      num_nodes: 4,
    });
    expect(shapeFix(job(2, 8), { 'nvidia.com/gpu': [4, 2] })!.arguments).toMatchObject({
      gpu_per_node: 4,
      num_nodes: 1,
    });
    expect(shapeFix(job(2, 8), { 'nvidia.com/gpu': [] })).toBeUndefined();
    expect(shapeFix(job(2, 4), { 'nvidia.com/gpu': [4, 4] })).toBeUndefined(); // it fits as it is
    expect(feasibleShape([8, 2, 2, 2, 2], 4, 2, true)).toEqual({ perNode: 2, nodes: 4, sameTotal: true });
  });
});

describe('a gated model submitted without a token', () => {
  it('is told that the token is missing and how to pass it, from the failed step', async () => {
    const { c } = await sandboxAndServer();
    await call(c.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      name: 'no-token',
      confirmed: true,
    });
    const w = await call(c.client, 'wait_for_training', {
      name: 'no-token',
      timeout_seconds: 60,
      polling_interval: 0.1,
    });
    expect(w.error_code).toBe('JOB_FAILED');
    const logs = await call(c.client, 'get_training_logs', { name: 'no-token', step: 'model-initializer' });
    expect(logs.data.failure_hint.category).toBe('HF_AUTH');
    expect(logs.data.failure_hint.suggestion).toMatch(/google\/gemma-2b is gated.*no Hugging Face token.*hf_token=/);
    const job = await call(c.client, 'get_training_job', { name: 'no-token' });
    expect(job.data.steps.map((s: any) => s.name)).not.toContain('node-0');
    // The job alone says so, before any log is read.
    const spec = {
      spec: {
        initializer: {
          model: { storageUri: 'hf://google/gemma-2b' },
          dataset: { storageUri: 'hf://tatsu-lab/alpaca' },
        },
      },
    };
    expect(missingTokenDiagnosis(spec)).toMatchObject({
      category: 'HF_AUTH',
      step: 'model-initializer',
      suggestion: expect.stringMatching(/without a token.*hf_token=/),
    });
    expect(
      missingTokenDiagnosis({
        spec: { initializer: { model: { storageUri: 'hf://google/gemma-2b', secretRef: { name: 'x' } } } },
      }),
    ).toBeUndefined();
  });
});
