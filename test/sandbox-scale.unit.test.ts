// The sandbox at scale: the controller, kubelet, event recorder and garbage collector find what an
// event touches through indexes, so one job's life costs the same with 2,000 jobs as with none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../sandbox/clock.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';

let sb: Sandbox;
const clock = new ManualClock();
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};
const base = () => `${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`;
const body = (name: string, suspend = false) =>
  JSON.stringify({
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'TrainJob',
    metadata: { name },
    spec: { runtimeRef: { name: 'torch-distributed' }, suspend, trainer: { numNodes: 1 } },
  });
const post = (name: string, suspend = false) =>
  fetch(base(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(name, suspend) }).then(
    (r) => r.status,
  );

/** Objects scanned by full lists while one job is created, suspended, resumed, run to completion and deleted. */
async function scansForOneJob(name: string) {
  const before = sb.store.scanned;
  expect(await post(name)).toBe(201);
  for (let t = 0; t < 5000; t += 1000) {
    clock.advance(1000);
    await settle();
  }
  for (const suspend of [true, false]) {
    const res = await fetch(`${base()}/${name}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { suspend } }),
    });
    expect(res.status).toBe(200);
    await settle();
  }
  for (let t = 0; t < 40_000; t += 1000) {
    clock.advance(1000);
    await settle();
  }
  const job = sb.store.get(typeNamed('trainjobs'), 'default', name)!;
  expect(job.status.conditions.map((c: any) => c.type)).toContain('Complete');
  expect((await fetch(`${base()}/${name}`, { method: 'DELETE' })).status).toBe(200);
  await settle();
  expect(sb.store.withLabel(typeNamed('pods'), 'default', 'batch.kubernetes.io/job-name', `${name}-node-0`)).toEqual(
    [],
  );
  return sb.store.scanned - before;
}

beforeAll(async () => {
  sb = await startSandbox({ clock });
});
afterAll(() => sb?.stop());

describe('sandbox at scale', () => {
  it("does no work proportional to the number of stored objects for one job's events", async () => {
    const alone = await scansForOneJob('first');
    for (let i = 0; i < 2000; i += 100) {
      const codes = await Promise.all(
        Array.from({ length: 100 }, (_, k) => post(`bulk-${String(i + k).padStart(4, '0')}`, true)),
      );
      expect(codes.every((c) => c === 201)).toBe(true);
    }
    await settle();
    expect(sb.store.count(typeNamed('trainjobs'))).toBeGreaterThanOrEqual(2000);
    const crowded = await scansForOneJob('second');
    expect(crowded).toBe(alone);
  });

  it('lists in etcd key order and finds objects by label and by owner through indexes', async () => {
    const names = sb.store.list(typeNamed('trainjobs'), 'default').map((j) => j.metadata.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const job = sb.store.get(typeNamed('trainjobs'), 'default', 'bulk-0007')!;
    const owned = sb.store
      .dependents(job.metadata.uid)
      .map((d) => `${d.typeKey}:${d.obj.metadata.name}`)
      .sort();
    expect(owned).toEqual(['/configmaps:bulk-0007-runtime-snapshot', 'jobset.x-k8s.io/jobsets:bulk-0007']);
  });
});
