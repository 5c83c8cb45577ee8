// The sandbox cluster as a separate process, filled through its API the way any client would:
// TrainJobs, nodes and bound pods, with the process's CPU time and memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './servers.ts';

export const rssMb = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
/** User plus system CPU seconds a process has used. */
export const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

export interface SandboxProcess {
  proc: ChildProcess;
  url: string;
  kubeconfig: string;
  stop(): void;
}

export async function startSandboxProcess(timeScale: number): Promise<SandboxProcess> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-bench-')), 'kubeconfig');
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'kubeflow-mcp.mjs'), 'sandbox', '--kubeconfig', kubeconfig, '--time-scale', String(timeScale)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve) =>
    proc.stdout!.on('data', (d) => {
      const m = String(d).match(/listening on (http:\S+)/);
      if (m) resolve(m[1]);
    }),
  );
  return { proc, url, kubeconfig, stop: () => proc.kill('SIGTERM') };
}

const stats = async (url: string) =>
  (await (await fetch(`${url}/sandbox/v1/stats`)).json()) as { requests: number; objects: number };
export const requestsServed = async (url: string) => (await stats(url)).requests;

/** Waits until nothing in the store has changed for `quietMs` (the controller has settled). */
export async function settle(url: string, quietMs = 1500, maxMs = 180_000) {
  const start = Date.now();
  let last = (await stats(url)).objects,
    since = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await stats(url)).objects;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

/** One write, tried again (up to five times) when the connection is reset: a busy machine drops a few of 50 at once. */
async function send(url: string, init: RequestInit): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetch(url, init);
      await r.text();
      return r.status;
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}

async function post(url: string, path: string, bodies: unknown[], concurrency = 50) {
  for (let i = 0; i < bodies.length; i += concurrency) {
    const codes = await Promise.all(
      bodies.slice(i, i + concurrency).map((b) =>
        send(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b),
        }),
      ),
    );
    // A retried POST that had gone through the first time answers 409: the object is there.
    const bad = codes.find((c) => c !== 201 && c !== 409);
    if (bad) throw new Error(`POST ${path} answered ${bad}`);
  }
}

/** TrainJobs job-00000..: every third suspended, the rest run through the controller. */
export async function createJobs(url: string, from: number, to: number): Promise<number> {
  const t = performance.now();
  const bodies = [];
  for (let i = from; i < to; i++)
    bodies.push({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: `job-${String(i).padStart(5, '0')}` },
      spec: { runtimeRef: { name: 'torch-distributed' }, suspend: i % 3 === 0, trainer: { numNodes: 1 } },
    });
  await post(url, '/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs', bodies);
  return performance.now() - t;
}

/**
 * TrainJobs heavy-00000.. in namespace `heavy`, shaped as a real cluster's often are: managedFields
 * from four field managers (about 1.3 KB), a last-applied-configuration and a notes annotation
 * (about 2 KB) and a dozen status conditions (written through the status subresource). All are
 * suspended, so the controller leaves the conditions as written. Made through the API only.
 */
export async function createHeavyJobs(url: string, from: number, to: number): Promise<number> {
  const t = performance.now();
  if (from === 0)
    await post(url, '/api/v1/namespaces', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'heavy' } }]);
  const path = '/apis/trainer.kubeflow.org/v1alpha1/namespaces/heavy/trainjobs';
  const bodies = [];
  for (let i = from; i < to; i++) {
    const spec = {
      runtimeRef: { name: i % 2 ? 'torch-distributed' : 'deepspeed-distributed' },
      suspend: true,
      trainer: { numNodes: 1 + (i % 4) },
    };
    const managedFields = ['kubectl-client-side-apply', 'trainer-controller', 'kueue', 'dashboard'].map(
      (manager, k) => ({
        manager,
        operation: 'Update',
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        time: '2026-11-30T12:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': { '.': {}, [`f:bench.example.com/note-${k}`]: {} },
            'f:labels': { '.': {}, 'f:team': {} },
          },
          'f:spec': {
            'f:runtimeRef': { '.': {}, 'f:name': {} },
            'f:suspend': {},
            'f:trainer': { '.': {}, 'f:numNodes': {} },
          },
        },
      }),
    );
    bodies.push({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: {
        name: `heavy-${String(i).padStart(5, '0')}`,
        labels: { team: `team-${i % 7}`, 'app.kubernetes.io/part-of': 'bench' },
        managedFields,
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            apiVersion: 'trainer.kubeflow.org/v1alpha1',
            kind: 'TrainJob',
            metadata: { name: `heavy-${i}`, namespace: 'heavy' },
            spec,
          }),
          'bench.example.com/notes': `run ${i}: `.padEnd(1600, 'lorem ipsum dolor sit amet '),
        },
      },
      spec,
    });
  }
  await post(url, path, bodies);
  const conditions = Array.from({ length: 12 }, (_, k) => ({
    type: `Bench${k}`,
    status: k % 2 ? 'True' : 'False',
    reason: `Reason${k}`,
    message: `condition ${k} of a job that went through many states`,
    lastTransitionTime: '2026-11-30T12:00:00Z',
  }));
  for (let i = from; i < to; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, to - i) }, async (_, k) => {
        const status = await send(`${url}${path}/heavy-${String(i + k).padStart(5, '0')}/status`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ status: { conditions } }),
        });
        if (status !== 200) throw new Error(`PATCH status answered ${status}`);
      }),
    );
  }
  return performance.now() - t;
}

/** `nodes` GPU nodes and `pods` running pods spread evenly over them, each asking for CPU and memory, every tenth for a GPU. */
export async function createNodesAndPods(url: string, nodes: number, pods: number) {
  const nodeBodies = Array.from({ length: nodes }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `bench-node-${String(i).padStart(4, '0')}`,
      labels: { 'nvidia.com/gpu.product': i % 2 ? 'NVIDIA-A100-SXM4-80GB' : 'Tesla-T4' },
    },
    status: {
      allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', pods: '110' },
      capacity: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  }));
  await post(url, '/api/v1/nodes', nodeBodies);
  const podBodies = Array.from({ length: pods }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-pod-${String(i).padStart(5, '0')}`, namespace: 'default', labels: { app: 'bench' } },
    spec: {
      nodeName: `bench-node-${String(Math.floor((i * nodes) / pods)).padStart(4, '0')}`,
      containers: [
        {
          name: 'main',
          image: 'busybox',
          resources: { requests: { cpu: '500m', memory: '1Gi', ...(i % 10 === 0 ? { 'nvidia.com/gpu': '1' } : {}) } },
        },
      ],
    },
  }));
  await post(url, '/api/v1/namespaces/default/pods', podBodies, 100);
}
