// The controller on a manual clock: simulated time moves only when the test says so, so every
// transition can be observed at an exact moment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../sandbox/clock.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';

let sb: Sandbox;
const clock = new ManualClock();
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};
/** Advance simulated time in small steps, letting the controller react between them. */
async function advance(ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}
const job = () => sb.store.get(typeNamed('trainjobs'), 'default', 'clocked')!;
const pods = () =>
  sb.store
    .list(typeNamed('pods'), 'default')
    .filter((p) => p.metadata.labels?.['jobset.sigs.k8s.io/jobset-name'] === 'clocked');

beforeAll(async () => {
  sb = await startSandbox({ clock });
});
afterAll(() => sb?.stop());

describe('manual clock', () => {
  it('stays idle while initializers run: no reconcile happens unless something changed', async () => {
    await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'idle' },
        spec: {
          runtimeRef: { name: 'torchtune-llama3.2-1b' },
          initializer: { dataset: { storageUri: 'hf://a/b' }, model: { storageUri: 'hf://c/d' } },
          trainer: { command: ['tune', 'run'] },
        },
      }),
    });
    await advance(3000); // initializer pods are running now
    const before = sb.controller.reconciles;
    for (let i = 0; i < 10; i++) await settle(); // time stands still
    expect(sb.controller.reconciles).toBe(before);
    await advance(8000); // initializers finish; the trainer Job appears
    expect(sb.store.get(typeNamed('jobs'), 'default', 'idle-node-0')).toBeDefined();
  });

  it('moves a job through Pending, Running and Complete only as time is advanced', async () => {
    const res = await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'clocked' },
        spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { numNodes: 1 } },
      }),
    });
    expect(res.status).toBe(201);
    await settle();
    expect(pods().map((p) => p.status.phase)).toEqual(['Pending']);
    await advance(1500);
    expect(pods()[0].status.phase).toBe('Pending');
    await advance(1000);
    expect(pods()[0].status.phase).toBe('Running');
    expect(job().status.trainerStatus.progressPercentage).toBeLessThan(10);
    await advance(12_000);
    expect(job().status.trainerStatus.progressPercentage).toBeGreaterThanOrEqual(40);
    expect((job().status.conditions ?? []).some((c: any) => c.type === 'Complete')).toBe(false);
    await advance(13_000);
    expect(job().status.conditions.find((c: any) => c.type === 'Complete')).toMatchObject({
      status: 'True',
      reason: 'AllJobsCompleted',
    });
    expect(pods()[0].status.phase).toBe('Succeeded');
  });
});
