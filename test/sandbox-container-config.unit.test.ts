// The sandbox kubelet does not start a container whose Secret is missing: like the real kubelet it
// reports CreateContainerConfigError with a Warning event and starts the container once the
// Secret exists. (A job whose credentials Secret is written just after it must not fail.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
});
afterAll(() => sb?.stop());

const json = { 'content-type': 'application/json' };
const get = async (path: string) => (await fetch(`${sb.url}${path}`)).json() as Promise<any>;

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 20));
    v = await read();
  }
  return v;
}

describe('a container that names a Secret not yet written', () => {
  it('waits with CreateContainerConfigError, then runs when the Secret appears', async () => {
    const job = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'late-secret' },
      spec: {
        runtimeRef: { name: 'torch-distributed', apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime' },
        trainer: {
          numNodes: 1,
          command: ['python', '-c', 'print(1)'],
          env: [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'late-token', key: 'token' } } }],
        },
      },
    };
    const made = await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(job),
    });
    expect(made.status).toBe(201);
    const pods = '/api/v1/namespaces/default/pods?labelSelector=jobset.sigs.k8s.io%2Fjobset-name%3Dlate-secret';
    const waiting = await until(
      () => get(pods),
      (l) => l.items?.[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    );
    const pod = waiting.items[0];
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.containerStatuses[0].state.waiting.message).toBe('secret "late-token" not found');
    const events = await get(
      `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${pod.metadata.name}`,
    );
    expect(
      events.items.filter((e: any) => e.reason === 'Failed' && e.type === 'Warning').map((e: any) => e.message),
    ).toEqual(['Error: secret "late-token" not found']);

    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'late-token' },
      stringData: { token: 'hf_x' },
    };
    expect(
      (
        await fetch(`${sb.url}/api/v1/namespaces/default/secrets`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify(secret),
        })
      ).status,
    ).toBe(201);
    const started = await until(
      () => get(`/api/v1/namespaces/default/pods/${pod.metadata.name}`),
      (p) => ['Running', 'Succeeded'].includes(p.status?.phase),
    );
    expect(['Running', 'Succeeded']).toContain(started.status.phase);
  });
});
