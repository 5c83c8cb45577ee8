// The sandbox API server and controller, driven over real HTTP with @kubernetes/client-node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox;
let co: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
const TJ = { group: 'trainer.kubeflow.org', version: 'v1alpha1', plural: 'trainjobs' };
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const trainJob = (name: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'TrainJob',
  metadata: { name, ...(extra.metadata ?? {}) },
  spec: {
    runtimeRef: { name: 'torch-distributed' },
    trainer: { numNodes: 2, resourcesPerNode: { limits: { 'nvidia.com/gpu': 1 }, requests: { 'nvidia.com/gpu': 1 } } },
    ...(extra.spec ?? {}),
  },
});

async function until<T>(fn: () => Promise<T | undefined>, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const get = (name: string) => co.getNamespacedCustomObject({ ...TJ, namespace: 'default', name }) as Promise<any>;
const condition = (o: any, type: string) =>
  (o.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig);
  co = kc.makeApiClient(k8s.CustomObjectsApi);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(() => sb?.stop());

describe('sandbox API server', () => {
  it('serves the seeded runtimes with the labels an installed cluster has', async () => {
    const list: any = await co.listClusterCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'clustertrainingruntimes',
    });
    const names = list.items.map((r: any) => r.metadata.name);
    expect(names).toEqual([
      'deepspeed-distributed',
      'jax-distributed',
      'mlx-distributed',
      'torch-distributed',
      'torchtune-llama3.2-1b',
      'torchtune-llama3.2-3b',
      'torchtune-qwen2.5-1.5b',
      'xgboost-distributed',
    ]);
    for (const r of list.items) expect(r.metadata.labels['trainer.kubeflow.org/webhook-validation']).toBe('disabled');
    const cm = await core.readNamespacedConfigMap({ namespace: 'kubeflow-system', name: 'kubeflow-trainer-public' });
    expect(cm.data?.kubeflow_trainer_version).toBe('v2.3.0');
  });

  it('applies CRD defaults and answers 404 and 409 as Kubernetes does', async () => {
    const created: any = await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('defaults', { spec: { suspend: true } }),
    });
    expect(created.spec.runtimeRef).toEqual({
      name: 'torch-distributed',
      apiGroup: 'trainer.kubeflow.org',
      kind: 'ClusterTrainingRuntime',
    });
    expect(created.spec.managedBy).toBe('trainer.kubeflow.org/trainjob-controller');
    const dup = await co
      .createNamespacedCustomObject({ ...TJ, namespace: 'default', body: trainJob('defaults') })
      .catch((e) => e);
    expect(dup.code).toBe(409);
    expect(JSON.parse(dup.body)).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'trainjobs.trainer.kubeflow.org "defaults" already exists',
    });
    const missing = await get('nope').catch((e) => e);
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body).message).toBe('trainjobs.trainer.kubeflow.org "nope" not found');
  });

  it('prunes unknown fields with a Warning header, and rejects them under fieldValidation=Strict', async () => {
    const body = {
      ...trainJob('pruned', { spec: { suspend: true } }),
      spec: { ...trainJob('x', { spec: { suspend: true } }).spec, labels: { team: 'a' } },
    };
    const url = `${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec.labels\\""');
    expect((await res.json()).spec.labels).toBeUndefined();
    const strict = await fetch(`${url}?fieldValidation=Strict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, metadata: { name: 'pruned-strict' } }),
    });
    expect(strict.status).toBe(400);
    expect((await strict.json()).message).toBe('strict decoding error: unknown field "spec.labels"');
    const long = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, metadata: { name: 'a'.repeat(64) } }),
    });
    expect(long.status).toBe(422);
    expect((await long.json()).message).toContain('is invalid');
  });

  it('rejects invalid TrainJobs with 422 causes, immutable fields and webhook denials', async () => {
    const bad = await co
      .createNamespacedCustomObject({
        ...TJ,
        namespace: 'default',
        body: trainJob('bad-nodes', { spec: { trainer: { numNodes: -1, numProcPerNode: 0 } } }),
      })
      .catch((e) => e);
    expect(bad.code).toBe(422);
    const status = JSON.parse(bad.body);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toMatch(/^TrainJob\.trainer\.kubeflow\.org "bad-nodes" is invalid: /);
    expect(status.details.causes.map((c: any) => c.field)).toContain('spec.trainer.numNodes');
    const cel = await co
      .createNamespacedCustomObject({
        ...TJ,
        namespace: 'default',
        body: trainJob('bad-proc', { spec: { trainer: { numProcPerNode: 0 } } }),
      })
      .catch((e) => e);
    expect(JSON.parse(cel.body).details.causes[0]).toMatchObject({ field: 'spec.trainer.numProcPerNode' });
    const noRuntime = await co
      .createNamespacedCustomObject({
        ...TJ,
        namespace: 'default',
        body: trainJob('no-rt', { spec: { runtimeRef: { name: 'missing' } } }),
      })
      .catch((e) => e);
    expect(noRuntime.code).toBe(403);
    expect(JSON.parse(noRuntime.body).message).toContain(
      'admission webhook "validator.trainjob.trainer.kubeflow.org" denied the request: spec.runtimeRef',
    );
    const immut = await co
      .patchNamespacedCustomObject(
        { ...TJ, namespace: 'default', name: 'defaults', body: { spec: { trainer: { numNodes: 3 } } } },
        merge,
      )
      .catch((e) => e);
    expect(immut.code).toBe(422);
    expect(JSON.parse(immut.body).message).toContain('spec.trainer: Invalid value: "object": field is immutable');
    const smp = await co
      .patchNamespacedCustomObject(
        { ...TJ, namespace: 'default', name: 'defaults', body: { spec: { suspend: false } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      )
      .catch((e) => e);
    expect(smp.code).toBe(415);
  });

  it('runs a 2-node torch job through pods with the real labels to Complete, with logs and events', async () => {
    await co.createNamespacedCustomObject({ ...TJ, namespace: 'default', body: trainJob('two-node') });
    const done = await until(async () => {
      const j = await get('two-node');
      return condition(j, 'Complete') ? j : undefined;
    });
    expect(condition(done, 'Complete')).toMatchObject({
      reason: 'AllJobsCompleted',
      message: 'jobset completed successfully',
    });
    expect(done.status.jobsStatus).toEqual([
      { name: 'node', ready: 0, succeeded: 1, failed: 0, active: 0, suspended: 0 },
    ]);
    expect(done.status.trainerStatus.progressPercentage).toBe(100);
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector:
        'jobset.sigs.k8s.io/jobset-name=two-node,jobset.sigs.k8s.io/replicatedjob-name in (node, launcher)',
    });
    expect(pods.items.map((p) => p.metadata!.labels!['batch.kubernetes.io/job-completion-index']).sort()).toEqual([
      '0',
      '1',
    ]);
    for (const p of pods.items) {
      expect(p.metadata!.name).toMatch(/^two-node-node-0-[01]-[a-z0-9]{5}$/);
      expect(p.status!.phase).toBe('Succeeded');
      const env = Object.fromEntries(p.spec!.containers[0].env!.map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        PET_NNODES: '2',
        PET_MASTER_ADDR: 'two-node-node-0-0.two-node',
        PET_MASTER_PORT: '29500',
      });
    }
    const log = await core.readNamespacedPodLog({
      namespace: 'default',
      name: pods.items[1].metadata!.name!,
      container: 'node',
      tailLines: 3,
    });
    expect(log.trim().split('\n')).toHaveLength(3);
    expect(log).toContain('training finished');
    const capped = await core.readNamespacedPodLog({
      namespace: 'default',
      name: pods.items[1].metadata!.name!,
      container: 'node',
      limitBytes: 50,
    });
    expect(Buffer.byteLength(capped)).toBe(50);
    const stamped = await core.readNamespacedPodLog({
      namespace: 'default',
      name: pods.items[1].metadata!.name!,
      container: 'node',
      tailLines: 1,
      timestamps: true,
    });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \[rank1\]: training finished\n$/);
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.name=two-node',
    });
    expect(events.items.map((e) => e.reason)).toContain('AllJobsCompleted');
    for (const e of events.items) expect(e.firstTimestamp).toBeTruthy();
  });

  it("follows a running container's log until the container ends", async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('followed', { spec: { trainer: { numNodes: 1 } } }),
    });
    const pod = await until(async () =>
      (
        await core.listNamespacedPod({ namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=followed' })
      ).items.find((p) => p.status?.phase === 'Running'),
    );
    const t0 = Date.now();
    const res = await fetch(
      `${sb.url}/api/v1/namespaces/default/pods/${pod.metadata!.name}/log?container=node&follow=true`,
    );
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const text = await res.text(); // resolves only when the server ends the stream
    expect(text).toContain('training finished');
    expect(text.split('\n').filter(Boolean).length).toBeGreaterThan(5);
    expect(Date.now() - t0).toBeGreaterThan(50);
    const waiting = await fetch(`${sb.url}/api/v1/namespaces/default/pods/${pod.metadata!.name}/log`);
    expect(waiting.status).toBe(200);
  });

  it('leaves GPU pods unschedulable with the scheduler message when no node fits', async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('too-big', {
        spec: { trainer: { numNodes: 1, resourcesPerNode: { limits: { 'nvidia.com/gpu': 16 } } } },
      }),
    });
    const pod = await until(async () =>
      (
        await core.listNamespacedPod({ namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=too-big' })
      ).items.find((p) => p.status?.conditions?.[0]?.reason === 'Unschedulable'),
    );
    expect(pod.status!.conditions![0].message).toMatch(/^0\/4 nodes are available: .*Insufficient nvidia\.com\/gpu/);
    expect(pod.status!.phase).toBe('Pending');
    const log = await fetch(`${sb.url}/api/v1/namespaces/default/pods/${pod.metadata!.name}/log?container=node`);
    expect(log.status).toBe(400);
    expect((await log.json()).message).toBe(
      `container "node" in pod "${pod.metadata!.name}" is waiting to start: ContainerCreating`,
    );
  });

  it('fails a job on request, restarting once, with BackoffLimitExceeded and previous logs', async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('will-fail', {
        metadata: { annotations: { 'sandbox.kubeflow-mcp.dev/outcome': 'oom' } },
        spec: { trainer: { numNodes: 1 } },
      }),
    });
    const failed = await until(async () => {
      const j = await get('will-fail');
      return condition(j, 'Failed') ? j : undefined;
    });
    expect(condition(failed, 'Failed')).toMatchObject({
      reason: 'FailedJobs',
      message: 'jobset failed due to one or more job failures (first failed job: will-fail-node-0)',
    });
    const pod = (
      await core.listNamespacedPod({ namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=will-fail' })
    ).items[0];
    expect(pod.status!.containerStatuses![0].restartCount).toBe(1);
    const prev = await core.readNamespacedPodLog({
      namespace: 'default',
      name: pod.metadata!.name!,
      container: 'node',
      previous: true,
    });
    expect(prev).toContain('CUDA out of memory');
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.name=will-fail-node-0',
    });
    expect(events.items.map((e) => e.reason)).toContain('BackoffLimitExceeded');
  });

  it('suspends (pods deleted) and resumes as the Trainer controller does', async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('pausable', { spec: { trainer: { numNodes: 1 } } }),
    });
    await until(
      async () =>
        (
          await core.listNamespacedPod({
            namespace: 'default',
            labelSelector: 'jobset.sigs.k8s.io/jobset-name=pausable',
          })
        ).items.length > 0 || undefined,
    );
    await co.patchNamespacedCustomObject(
      { ...TJ, namespace: 'default', name: 'pausable', body: { spec: { suspend: true } } },
      merge,
    );
    const suspended = await until(async () => {
      const j = await get('pausable');
      return condition(j, 'Suspended') ? j : undefined;
    });
    expect(condition(suspended, 'Suspended')).toMatchObject({ reason: 'Suspended', message: 'TrainJob is suspended' });
    await until(
      async () =>
        (
          await core.listNamespacedPod({
            namespace: 'default',
            labelSelector: 'jobset.sigs.k8s.io/jobset-name=pausable',
          })
        ).items.length === 0 || undefined,
    );
    await co.patchNamespacedCustomObject(
      { ...TJ, namespace: 'default', name: 'pausable', body: { spec: { suspend: false } } },
      merge,
    );
    const done = await until(async () => {
      const j = await get('pausable');
      return condition(j, 'Complete') ? j : undefined;
    });
    expect(done.status.conditions.find((c: any) => c.type === 'Suspended')).toMatchObject({
      status: 'False',
      reason: 'Resumed',
    });
  });

  it('fails a job past activeDeadlineSeconds and deletes its JobSet', async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: trainJob('deadline', { spec: { activeDeadlineSeconds: 3, trainer: { numNodes: 1 } } }),
    });
    const failed = await until(async () => {
      const j = await get('deadline');
      return condition(j, 'Failed') ? j : undefined;
    });
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    const js = await co
      .getNamespacedCustomObject({
        group: 'jobset.x-k8s.io',
        version: 'v1alpha2',
        plural: 'jobsets',
        namespace: 'default',
        name: 'deadline',
      })
      .catch((e) => e);
    expect(js.code).toBe(404);
  });

  it('pages lists with limit/continue and expires too-old watches with 410', async () => {
    const page1: any = await co.listNamespacedCustomObject({ ...TJ, namespace: 'default', limit: 2 });
    expect(page1.items).toHaveLength(2);
    const page2: any = await co.listNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      limit: 100,
      _continue: page1.metadata.continue,
    });
    expect(page2.items[0].metadata.name > page1.items[1].metadata.name).toBe(true);
    const res = await fetch(
      `${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs?watch=1&resourceVersion=1&timeoutSeconds=1`,
    );
    const text = await res.text();
    // RV 1 is still in the history here, so the watch replays; an RV below the history is 410.
    expect(text).toContain('"ADDED"');
    const gone = await fetch(
      `${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs?watch=1&resourceVersion=-5&timeoutSeconds=1`,
    );
    expect(await gone.text()).toContain('"code":410');
  });

  it('runs an MPI (deepspeed) job: workers first, the launcher once they are Ready, success judged on the launcher', async () => {
    await co.createNamespacedCustomObject({
      ...TJ,
      namespace: 'default',
      body: {
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'mpi-job' },
        spec: { runtimeRef: { name: 'deepspeed-distributed' }, trainer: { numNodes: 3 } },
      },
    });
    const done = await until(async () => {
      const j = await get('mpi-job');
      return condition(j, 'Complete') ? j : undefined;
    });
    expect(done.status.jobsStatus.map((s: any) => s.name)).toEqual(['node', 'launcher']);
    const pods = (
      await core.listNamespacedPod({ namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=mpi-job' })
    ).items;
    const by = (rj: string) => pods.filter((p) => p.metadata!.labels!['jobset.sigs.k8s.io/replicatedjob-name'] === rj);
    expect(by('node')).toHaveLength(2); // runLauncherAsNode: numNodes - 1 workers
    expect(by('launcher')).toHaveLength(1);
    expect(Date.parse(by('launcher')[0].metadata!.creationTimestamp as any)).toBeGreaterThanOrEqual(
      Date.parse(by('node')[0].status!.startTime as any),
    );
    const hostfile = await core.readNamespacedConfigMap({ namespace: 'default', name: 'mpi-job-mpi-hostfile' });
    expect(hostfile.data!.hostfile).toBe('mpi-job-node-0-0.mpi-job slots=1\nmpi-job-node-0-1.mpi-job slots=1\n');
    await core.readNamespacedSecret({ namespace: 'default', name: 'mpi-job-mpi-ssh-auth' });
  });

  it('cascades deletes through owner references', async () => {
    await co.deleteNamespacedCustomObject({ ...TJ, namespace: 'default', name: 'two-node' });
    await until(
      async () =>
        (
          await core.listNamespacedPod({
            namespace: 'default',
            labelSelector: 'jobset.sigs.k8s.io/jobset-name=two-node',
          })
        ).items.length === 0 || undefined,
    );
    const js = await co
      .getNamespacedCustomObject({
        group: 'jobset.x-k8s.io',
        version: 'v1alpha2',
        plural: 'jobsets',
        namespace: 'default',
        name: 'two-node',
      })
      .catch((e) => e);
    expect(js.code).toBe(404);
  });
});
