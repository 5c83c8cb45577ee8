// The sandbox cluster as a separate process, filled through its API the way any client would:
// TrainJobs, nodes and bound pods, with the process's CPU time and memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './servers.ts';

export const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
/** User plus system CPU seconds a process has used. */
export const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

export interface SandboxProcess { proc: ChildProcess; url: string; kubeconfig: string; stop(): void }

export async function startSandboxProcess(timeScale: number): Promise<SandboxProcess> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-bench-')), 'kubeconfig');
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'kubeflow-mcp.mjs'), 'sandbox', '--kubeconfig', kubeconfig, '--time-scale', String(timeScale)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => proc.stdout!.on('data', (d) => { const m = String(d).match(/listening on (http:\S+)/); if (m) resolve(m[1]); }));
  return { proc, url, kubeconfig, stop: () => proc.kill('SIGTERM') };
}

const stats = async (url: string) => (await (await fetch(`${url}/sandbox/v1/stats`)).json()) as { requests: number; objects: number };
export const requestsServed = async (url: string) => (await stats(url)).requests;

/** Waits until nothing in the store has changed for `quietMs` (the controller has settled). */
export async function settle(url: string, quietMs = 1500, maxMs = 180_000) {
  const start = Date.now();
  let last = (await stats(url)).objects, since = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await stats(url)).objects;
    if (now !== last) { last = now; since = Date.now(); } else if (Date.now() - since >= quietMs) return;
  }
}

async function post(url: string, path: string, bodies: unknown[], concurrency = 50) {
  for (let i = 0; i < bodies.length; i += concurrency) {
    const codes = await Promise.all(bodies.slice(i, i + concurrency).map((b) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) }).then(async (r) => { await r.text(); return r.status; })));
    const bad = codes.find((c) => c !== 201);
    if (bad) throw new Error(`POST ${path} answered ${bad}`);
  }
}

/** TrainJobs job-00000..: every third suspended, the rest run through the controller. */
export async function createJobs(url: string, from: number, to: number): Promise<number> {
  const t = performance.now();
  const bodies = [];
  for (let i = from; i < to; i++) bodies.push({ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: `job-${String(i).padStart(5, '0')}` }, spec: { runtimeRef: { name: 'torch-distributed' }, suspend: i % 3 === 0, trainer: { numNodes: 1 } } });
  await post(url, '/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs', bodies);
  return performance.now() - t;
}

/** `nodes` GPU nodes and `pods` running pods spread evenly over them, each asking for CPU and memory, every tenth for a GPU. */
export async function createNodesAndPods(url: string, nodes: number, pods: number) {
  const nodeBodies = Array.from({ length: nodes }, (_, i) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: `bench-node-${String(i).padStart(4, '0')}`, labels: { 'nvidia.com/gpu.product': i % 2 ? 'NVIDIA-A100-SXM4-80GB' : 'Tesla-T4' } },
    status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', pods: '110' }, capacity: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  }));
  await post(url, '/api/v1/nodes', nodeBodies);
  const podBodies = Array.from({ length: pods }, (_, i) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `bench-pod-${String(i).padStart(5, '0')}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { nodeName: `bench-node-${String(Math.floor((i * nodes) / pods)).padStart(4, '0')}`, containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '500m', memory: '1Gi', ...(i % 10 === 0 ? { 'nvidia.com/gpu': '1' } : {}) } } }] },
  }));
  await post(url, '/api/v1/namespaces/default/pods', podBodies, 100);
}
