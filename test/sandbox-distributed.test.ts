// Distributed training as it behaves: a multi-node torch trainer runs only once all its nodes run
// together (torchrun's static rendezvous on rank 0's TCPStore). A 4-node job on a cluster where
// one node fits waits, times out with torch's error, and fails; the failure is read back through
// the tools (get_training_job, get_training_events) and kubectl describe. A job whose missing node
// is scheduled while the others wait starts training when it arrives and completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { runTool } from '../runtime/pipeline.ts';
import type { ServerState } from '../runtime/context.ts';
import { inProcessState } from './helpers/in-process.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox;
let state: ServerState;
let dir: string;
const TJ = typeNamed('trainjobs'),
  PODS = typeNamed('pods');

const job = (name: string, nodes: number, gpus: number) => ({
  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'TrainJob',
  metadata: { name },
  spec: {
    runtimeRef: { name: 'torch-distributed' },
    trainer: {
      numNodes: nodes,
      resourcesPerNode: { limits: { 'nvidia.com/gpu': gpus }, requests: { 'nvidia.com/gpu': gpus } },
    },
  },
});
async function until<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const cond = (o: any, type: string) =>
  (o?.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');
const podsOf = (name: string) =>
  sb.store.list(PODS, 'default').filter((p) => p.metadata.labels?.['jobset.sigs.k8s.io/jobset-name'] === name);
async function submit(name: string, nodes: number, gpus: number) {
  const res = await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job(name, nodes, gpus)),
  });
  expect(res.status).toBe(201);
}
const logOf = async (pod: string, previous = false) =>
  (
    await fetch(`${sb.url}/api/v1/namespaces/default/pods/${pod}/log?container=node${previous ? '&previous=true' : ''}`)
  ).text();

beforeAll(async () => {
  // 300 simulated seconds of rendezvous timeout (torchrun's default is 900), at a fiftieth of real time: six
  // seconds of wall clock, so that a busy machine still reads the waiting state before it times out.
  sb = await startSandbox({ timeScale: 0.02, durations: { rendezvous: 300_000 } });
  state = inProcessState(sb.kubeconfig);
  dir = mkdtempSync(join(tmpdir(), 'kfmcp-distributed-'));
  writeFileSync(join(dir, 'kc'), sb.kubeconfig);
});
afterAll(() => sb?.stop());

describe('a 4-node torch job where only one node fits', () => {
  const NAME = 'four-nodes';
  it('runs rank 0 alone, waiting at the rendezvous, with the others Unschedulable and no progress', async () => {
    await submit(NAME, 4, 4);
    const running = await until(() => podsOf(NAME).find((p) => p.status?.phase === 'Running'));
    expect(running.metadata.labels?.['batch.kubernetes.io/job-completion-index']).toBe('0');
    const pending = podsOf(NAME).filter((p) => p !== running);
    expect(pending).toHaveLength(3);
    for (const p of pending)
      expect(p.status.conditions[0]).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
    // The log is written as the simulated clock runs: wait for the launcher's whole header.
    const log = await until(async () => {
      const l = await logOf(running.metadata.name);
      return l.includes('rdzv_endpoint') ? l : undefined;
    });
    expect(log).toContain('INFO:torch.distributed.run:Starting elastic agent: nnodes=4 node_rank=0');
    expect(log).not.toContain('NaN');
    expect(log).toContain(`rdzv_endpoint    : ${NAME}-node-0-0.${NAME}:29500`);
    expect(log).not.toContain('loss');
    const tj = sb.store.get(TJ, 'default', NAME)!;
    expect(tj.status?.trainerStatus).toBeUndefined();
    const viaTool: any = await runTool(state, 'get_training_job', { name: NAME, namespace: 'default' });
    expect(viaTool.data.status).toBe('Created');
    expect(viaTool.data.steps.filter((s: any) => s.unschedulable).length).toBe(3);
  });

  it("fails after the rendezvous timeout with torch's error, restarting once, then the TrainJob fails", async () => {
    const failed = await until(() => {
      const j = sb.store.get(TJ, 'default', NAME);
      return cond(j, 'Failed') ? j : undefined;
    }, 25000);
    expect(cond(failed, 'Failed')).toMatchObject({
      reason: 'FailedJobs',
      message: `jobset failed due to one or more job failures (first failed job: ${NAME}-node-0)`,
    });
    const pods = podsOf(NAME);
    expect(pods).toHaveLength(1); // the pending ones were deleted with the failed Job
    const [pod] = pods;
    expect(pod.status.phase).toBe('Failed');
    const cs = pod.status.containerStatuses[0];
    expect(cs.restartCount).toBe(1);
    const error =
      'torch.distributed.DistStoreError: Timed out after 301 seconds waiting for clients. 1/4 clients joined.';
    expect(cs.state.terminated).toMatchObject({ exitCode: 1, reason: 'Error', message: error });
    expect(cs.lastState.terminated.message).toBe(error);
    for (const log of [await logOf(pod.metadata.name), await logOf(pod.metadata.name, true)]) {
      expect(log).toContain('static_tcp_rendezvous.py", line 68, in next_rendezvous');
      expect(log.trim().split('\n').at(-1)).toBe(error);
    }
  });

  it('is read back through get_training_job, get_training_events and get_training_logs', async () => {
    const got: any = await runTool(state, 'get_training_job', { name: NAME, namespace: 'default' });
    expect(got.success).toBe(true);
    expect(got.data.status).toBe('Failed');
    expect(got.data.reason).toBe(
      `FailedJobs: jobset failed due to one or more job failures (first failed job: ${NAME}-node-0)`,
    );
    expect(got.data.steps).toMatchObject([{ name: 'node-0', status: 'Failed', restarts: 1 }]);
    const events: any = await runTool(state, 'get_training_events', { name: NAME, namespace: 'default' });
    const reasons = events.data.events.map((e: any) => `${e.involved_object_kind} ${e.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining(['Pod BackOff', 'Job BackoffLimitExceeded', 'Job SuccessfulDelete', 'JobSet FailedJobs']),
    );
    const logs: any = await runTool(state, 'get_training_logs', { name: NAME, namespace: 'default' });
    expect(JSON.stringify(logs)).toContain('1/4 clients joined');
  });

  it.skipIf(!hasKubectl)("kubectl describe shows the condition, the events and the container's message", async () => {
    const { kubectl } = kubectlWith(join(dir, 'kc'));
    const tj = await kubectl('describe', 'trainjob', NAME);
    expect(tj).toContain('jobset failed due to one or more job failures (first failed job: four-nodes-node-0)');
    const pod = await kubectl('describe', 'pod', podsOf(NAME)[0].metadata.name);
    expect(pod).toMatch(
      /State:\s+Terminated\n\s+Reason:\s+Error\n\s+Message:\s+torch\.distributed\.DistStoreError: Timed out after 301 seconds waiting for clients\. 1\/4 clients joined\./,
    );
    expect(pod).toMatch(/Exit Code:\s+1/);
  });
});

describe('a 2-node torch job whose second node frees up while the first waits', () => {
  it('starts training when the last node joins, and completes', async () => {
    // A one-node job takes the A100 node's 4 GPUs; the 2-node job gets the T4 node (2 GPUs) for
    // rank 0 and waits for the A100 node for rank 1.
    await submit('hog', 1, 4);
    await until(() => podsOf('hog').find((p) => p.status?.phase === 'Running'));
    await submit('pair', 2, 2);
    const first = await until(() => podsOf('pair').find((p) => p.status?.phase === 'Running'));
    expect(first.spec.nodeName).toBe('gpu-node-t4-1');
    expect(
      podsOf('pair').find((p) => p !== first && p.metadata.name !== first.metadata.name)?.status.conditions[0].reason,
    ).toBe('Unschedulable');
    const done = await until(() => {
      const j = sb.store.get(TJ, 'default', 'pair');
      return cond(j, 'Complete') || cond(j, 'Failed') ? j : undefined;
    }, 25000);
    expect(cond(done, 'Complete')).toBeTruthy();
    const log = await logOf(
      podsOf('pair').find((p) => p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '0')!.metadata
        .name,
    );
    expect(log).toContain('training finished');
    expect(log).not.toContain('Traceback');
  });
});
