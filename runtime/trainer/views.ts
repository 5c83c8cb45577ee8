// Read models of Trainer objects: a TrainJob's status and steps, and a runtime's summary, derived
// the way the Kubeflow SDK derives them (but reporting Suspended, and from labels Trainer sets).
import type { Obj } from '../k8s/client.ts';

export const FRAMEWORK_LABEL = 'trainer.kubeflow.org/framework';
export const ANCESTOR_LABEL = 'trainer.kubeflow.org/trainjob-ancestor-step';
export const JOBSET_LABEL = 'jobset.sigs.k8s.io/jobset-name';
export const RJOB_LABEL = 'jobset.sigs.k8s.io/replicatedjob-name';
export const INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';

export type JobStatus = 'Created' | 'Running' | 'Suspended' | 'Complete' | 'Failed';

const condTrue = (o: Obj, type: string) =>
  (o.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');

/** Status from the TrainJob alone: conditions first, then its jobsStatus counters. */
export function jobStatus(job: Obj): JobStatus {
  if (condTrue(job, 'Failed')) return 'Failed';
  if (condTrue(job, 'Complete')) return 'Complete';
  if (condTrue(job, 'Suspended') || job.spec?.suspend) return 'Suspended';
  const js: any[] = job.status?.jobsStatus ?? [];
  const trainerish = js.filter((s) => s.name === 'node' || s.name === 'launcher');
  if (trainerish.some((s) => s.ready > 0 || s.succeeded > 0)) return 'Running';
  return 'Created';
}

export function statusReason(job: Obj): string | undefined {
  const last = [...(job.status?.conditions ?? [])].reverse().find((c: any) => c.status === 'True');
  return last ? `${last.reason}: ${last.message}` : undefined;
}

export function deviceOf(resources: Obj | undefined): { device: string; count: number } {
  const lim = { ...(resources?.requests ?? {}), ...(resources?.limits ?? {}) };
  for (const [key, device] of [
    ['nvidia.com/gpu', 'gpu'],
    ['amd.com/gpu', 'gpu'],
    ['gpu.intel.com/i915', 'gpu'],
    ['google.com/tpu', 'tpu'],
  ] as const) {
    if (lim[key] !== undefined) return { device, count: Number(lim[key]) };
  }
  const mig = Object.keys(lim).find((k) => k.startsWith('nvidia.com/mig-'));
  if (mig) return { device: mig.replace('nvidia.com/', ''), count: Number(lim[mig]) };
  if (lim.cpu !== undefined) return { device: 'cpu', count: Number(String(lim.cpu).replace(/m$/, '')) || 1 };
  return { device: 'unknown', count: 0 };
}

/** One step per pod: node-<rank> for trainer pods, the initializer name otherwise. */
export function stepsOf(pods: Obj[], mpi: boolean) {
  return pods
    .map((p) => {
      const rjob = p.metadata.labels?.[RJOB_LABEL] ?? 'unknown';
      const idx = Number(p.metadata.labels?.[INDEX_LABEL] ?? 0);
      const name = rjob === 'node' ? `node-${mpi ? idx + 1 : idx}` : rjob === 'launcher' ? 'node-0' : rjob;
      const main = p.spec?.containers?.[0];
      const { device, count } = deviceOf(main?.resources);
      const cs = p.status?.containerStatuses?.[0];
      const waiting = cs?.state?.waiting?.reason;
      const unschedulable = (p.status?.conditions ?? []).find(
        (c: any) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
      );
      return {
        name,
        status: p.status?.phase ?? 'Pending',
        pod_name: p.metadata.name,
        replicated_job: rjob,
        device,
        device_count: count,
        restarts: cs?.restartCount ?? 0,
        ...(waiting ? { waiting: waiting } : {}),
        ...(unschedulable ? { unschedulable: unschedulable.message } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

export function trainerJobOf(rt: Obj) {
  return (rt.spec?.template?.spec?.replicatedJobs ?? []).find(
    (r: any) => r.template?.metadata?.labels?.[ANCESTOR_LABEL] === 'trainer',
  );
}

/** What an agent needs to choose a runtime. */
export function summarizeRuntime(rt: Obj) {
  const framework = rt.metadata?.labels?.[FRAMEWORK_LABEL] ?? null;
  const rjobs: any[] = rt.spec?.template?.spec?.replicatedJobs ?? [];
  const trainer = trainerJobOf(rt);
  const node = (trainer?.template?.spec?.template?.spec?.containers ?? []).find((c: any) => c.name === 'node');
  const policy = rt.spec?.mlPolicy ?? {};
  const numNodes = policy.numNodes ?? 1;
  const { device, count } = deviceOf(node?.resources);
  const perNode = policy.mpi?.numProcPerNode && device === 'unknown' ? policy.mpi.numProcPerNode : count;
  return {
    name: rt.metadata.name,
    kind: rt.kind,
    framework,
    trainer_type: framework === 'torchtune' ? 'BuiltinTrainer' : 'CustomTrainer',
    ml_policy: Object.keys(policy).filter((k) => k !== 'numNodes')[0] ?? null,
    image: node?.image ?? null,
    command: node?.command ?? null,
    num_nodes: numNodes,
    device,
    device_count: perNode * numNodes,
    steps: rjobs.map((r) => r.name),
    initializers: rjobs
      .map((r) => r.template?.metadata?.labels?.[ANCESTOR_LABEL])
      .filter((s: string) => s && s !== 'trainer'),
    ...(rt.metadata?.labels?.['trainer.kubeflow.org/support'] === 'deprecated' ? { deprecated: true } : {}),
  };
}
