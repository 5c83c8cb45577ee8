// Projected lists from a watch-fed cache, against the sandbox over real HTTP: the first read is one
// streaming list (watch-list; pages where the server refuses it), later reads make no request, this server's writes show at once, other clients' writes
// as fast as the watch brings them, and a watch that breaks makes the next read list again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube, withoutManagedFields } from '../runtime/k8s/client.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox, kube: Kube;
const projection = { key: 'test', project: (o: any) => ({ name: o.metadata.name, suspended: !!o.spec.suspend }) };
const rows = () =>
  kube.listProjected('trainjobs', { namespace: 'team' }, projection) as Promise<
    Array<{ name: string; suspended: boolean }>
  >;
const job = (name: string, suspend = true) => ({
  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'TrainJob',
  metadata: { name, namespace: 'team' },
  spec: { runtimeRef: { name: 'torch-distributed' }, suspend },
});
const post = (name: string) =>
  fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job(name)),
  });
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition never held');
}

beforeAll(async () => {
  sb = await startSandbox({ objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }] });
  for (let i = 0; i < 1200; i += 100)
    await Promise.all(Array.from({ length: 100 }, (_, k) => post(`job-${String(i + k).padStart(4, '0')}`)));
  kube = new Kube({ kubeconfigYaml: sb.kubeconfig });
});
afterAll(async () => {
  kube?.caches.close();
  await sb?.stop();
});

describe('watch-fed projected lists', () => {
  it('lists once as a stream, keeps only the rows, and answers later reads without a request', async () => {
    const first = await rows();
    expect(first).toHaveLength(1200);
    expect(first.map((r) => r.name)).toEqual([...first.map((r) => r.name)].sort());
    expect(Object.keys(first[0]).sort()).toEqual(['name', 'suspended']);
    const lists = sb.faults.seen.filter((r) =>
      r.startsWith('GET /apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs?'),
    );
    expect(lists.filter((r) => !r.includes('watch=')).length).toBe(0);
    // One watch: the current state, the bookmark that ends it, then changes on the same stream.
    expect(
      lists.filter(
        (r) =>
          r.includes('watch=true') &&
          r.includes('sendInitialEvents=true') &&
          r.includes('resourceVersionMatch=NotOlderThan'),
      ).length,
    ).toBe(1);
    const before = sb.faults.seen.length;
    await rows();
    expect(sb.faults.seen.length).toBe(before);
  });

  it('lists in pages where the API server refuses streaming lists, then watches from the list', async () => {
    sb.faults.rules.push({ method: 'GET', path: /sendInitialEvents=true/, fault: 'error', status: 422 });
    const other = new Kube({ kubeconfigYaml: sb.kubeconfig });
    try {
      const from = sb.faults.seen.length;
      const got = (await other.listProjected('trainjobs', { namespace: 'team' }, projection)) as Array<{
        name: string;
      }>;
      expect(got.map((r) => r.name)).toEqual((await rows()).map((r) => r.name));
      const seen = () =>
        sb.faults.seen
          .slice(from)
          .filter((r) => r.startsWith('GET /apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs?'));
      expect(seen().filter((r) => !r.includes('watch=')).length).toBe(3); // 500 + 500 + 200
      await eventually(
        async () => seen(),
        (s) =>
          s.some((r) => r.includes('watch=true') && /resourceVersion=\d+/.test(r) && !r.includes('sendInitialEvents')),
      );
      // Known now: the next fill of this client goes straight to pages.
      await other.listProjected('trainjobs', { namespace: 'team', labelSelector: 'x!=y' }, projection);
      expect(seen().filter((r) => r.includes('sendInitialEvents')).length).toBe(1);
    } finally {
      other.caches.close();
      sb.faults.set([]);
    }
  });

  it("leaves out only the managedFields of the object's own metadata from a watch event", () => {
    const cases = [
      {
        type: 'ADDED',
        object: {
          apiVersion: 'v1',
          metadata: { name: 'a', managedFields: [{ manager: 'x]"\\{', fieldsV1: { 'f:a': {} } }], uid: 'u' },
          spec: { managedFields: [1] },
        },
      },
      { type: 'ADDED', object: { metadata: { managedFields: [{ a: 1 }] } } },
      {
        type: 'MODIFIED',
        object: { spec: { x: { managedFields: [2] } }, metadata: { managedFields: [3], name: 'w' } },
      },
      { type: 'ADDED', object: { spec: { template: { metadata: { managedFields: [4] } } }, metadata: { name: 'p' } } },
      { type: 'ADDED', object: { metadata: { annotations: { x: '"managedFields":[1]' }, name: 'q' } } },
    ];
    for (const c of cases) {
      const want = structuredClone(c);
      delete (want.object.metadata as any).managedFields;
      expect(JSON.parse(withoutManagedFields(JSON.stringify(c)))).toEqual(want);
    }
  });

  it("shows this client's own writes at once, without waiting for the watch", async () => {
    await kube.create('trainjobs', job('mine'), 'team');
    expect((await rows()).some((r) => r.name === 'mine')).toBe(true);
    await kube.patch('trainjobs', 'mine', { spec: { suspend: false } }, 'team');
    expect((await rows()).find((r) => r.name === 'mine')?.suspended).toBe(false);
    await kube.remove('trainjobs', 'mine', 'team');
    expect((await rows()).some((r) => r.name === 'mine')).toBe(false);
  });

  it("sees other clients' creates, changes and deletes through the watch", async () => {
    expect((await post('theirs')).status).toBe(201);
    await eventually(rows, (r) => r.some((x) => x.name === 'theirs'));
    await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs/job-0001`, {
      method: 'DELETE',
    });
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
    const truth = (
      await (await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/team/trainjobs`)).json()
    ).items.map((o: any) => o.metadata.name);
    expect(r.map((x) => x.name)).toEqual(truth);
    sb.faults.set([]);
  });

  it('serves reads that come while the first fill is under way from that one fill', async () => {
    const own = new Kube({ kubeconfigYaml: sb.kubeconfig });
    const started = Date.now();
    const all = await Promise.all(
      Array.from({ length: 20 }, () => own.listProjected('trainjobs', { namespace: 'team' }, projection)),
    );
    expect(own.caches.fills).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const r of all) expect(r).toEqual(all[0]);
    expect(all[0].length).toBeGreaterThanOrEqual(1200);
    own.closeCaches();
  });
});
