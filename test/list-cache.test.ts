// Projected lists from a watch-fed cache, against the sandbox over real HTTP: the first read lists
// in pages, later reads make no request, this server's writes show at once, other clients' writes
// as fast as the watch brings them, and a watch that breaks makes the next read list again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../runtime/k8s/client.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox, kube: Kube;
const projection = { key: 'test', project: (o: any) => ({ name: o.metadata.name, suspended: !!o.spec.suspend }) };
const rows = () => kube.listProjected('trainjobs', { namespace: 'team' }, projection) as Promise<Array<{ name: string; suspended: boolean }>>;
const job = (name: string, suspend = true) => ({ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name, namespace: 'team' }, spec: { runtimeRef: { name: 'torch-distributed' }, suspend } });
const post = (name: string) => fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(job(name)) });
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 60; i++) { const v = await read(); if (ok(v)) return v; await new Promise((r) => setTimeout(r, 25)); }
  throw new Error('condition never held');
}

beforeAll(async () => {
  sb = await startSandbox({ objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }] });
  for (let i = 0; i < 1200; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => post(`job-${String(i + k).padStart(4, '0')}`)));
  kube = new Kube({ kubeconfigYaml: sb.kubeconfig });
});
afterAll(async () => { kube?.caches.close(); await sb?.stop(); });

describe('watch-fed projected lists', () => {
  it('lists once in pages, keeps only the rows, and answers later reads without a request', async () => {
    const first = await rows();
    expect(first).toHaveLength(1200);
    expect(first.map((r) => r.name)).toEqual([...first.map((r) => r.name)].sort());
    expect(Object.keys(first[0]).sort()).toEqual(['name', 'suspended']);
    const lists = sb.faults.seen.filter((r) => r.startsWith('GET /apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs?'));
    expect(lists.filter((r) => !r.includes('watch=')).length).toBe(3); // 500 + 500 + 200
    // The watch connects behind the answer, from the list's resourceVersion.
    await eventually(async () => sb.faults.seen, (seen) => seen.some((r) => r.includes('/namespaces/team/trainjobs?') && r.includes('watch=true') && /resourceVersion=\d+/.test(r)));
    const before = sb.faults.seen.length;
    await rows();
    expect(sb.faults.seen.length).toBe(before);
  });

  it('shows this client\'s own writes at once, without waiting for the watch', async () => {
    await kube.create('trainjobs', job('mine'), 'team');
    expect((await rows()).some((r) => r.name === 'mine')).toBe(true);
    await kube.patch('trainjobs', 'mine', { spec: { suspend: false } }, 'team');
    expect((await rows()).find((r) => r.name === 'mine')?.suspended).toBe(false);
    await kube.remove('trainjobs', 'mine', 'team');
    expect((await rows()).some((r) => r.name === 'mine')).toBe(false);
  });

  it('sees other clients\' creates, changes and deletes through the watch', async () => {
    expect((await post('theirs')).status).toBe(201);
    await eventually(rows, (r) => r.some((x) => x.name === 'theirs'));
    await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs/job-0001`, { method: 'DELETE' });
    await eventually(rows, (r) => !r.some((x) => x.name === 'job-0001'));
  });

  it('lists again after its watch breaks, and misses nothing made meanwhile', async () => {
    const fills = kube.caches.fills;
    sb.faults.rules.push({ method: 'GET', path: /watch=true/, fault: 'drop' }); // no watch can be made again
    sb.dropConnections();
    await new Promise((r) => setTimeout(r, 100));
    expect((await post('while-down')).status).toBe(201);
    const r = await rows();
    expect(kube.caches.fills).toBe(fills + 1);
    expect(r.some((x) => x.name === 'while-down')).toBe(true);
    const truth = (await (await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs`)).json()).items.map((o: any) => o.metadata.name);
    expect(r.map((x) => x.name)).toEqual(truth);
    sb.faults.set([]);
  });
});
