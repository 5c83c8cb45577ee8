// A TrainJob with its steps (one per pod), node count, conditions, progress and timestamps.
import type { GetTrainingJobInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { JOBSET_LABEL, jobStatus, statusReason, stepsOf } from '../trainer/views.ts';

export async function fetchJob(ctx: ToolContext, name: string) {
  return ctx.kube.get('trainjobs', name, ctx.namespace).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND') throw new ToolError('RESOURCE_NOT_FOUND', `Training job '${name}' not found in namespace '${ctx.namespace}'`, { job: name, namespace: ctx.namespace }, 'Use list_training_jobs() to find jobs.');
    throw e;
  });
}

export default async function getTrainingJob(input: GetTrainingJobInput, ctx: ToolContext) {
  const [job, pods] = await Promise.all([
    fetchJob(ctx, input.name),
    ctx.kube.list('pods', { namespace: ctx.namespace, labelSelector: `${JOBSET_LABEL}=${input.name}` }),
  ]);
  const status = jobStatus(job);
  const mpi = pods.items.some((p) => p.metadata.labels?.['jobset.sigs.k8s.io/replicatedjob-name'] === 'launcher');
  const steps = stepsOf(pods.items, mpi);
  const conditions = (job.status?.conditions ?? []).map((c: any) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, last_transition: c.lastTransitionTime }));
  const completion = conditions.find((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const next: string[] = [];
  if (status === 'Failed') next.push(`get_training_logs(name='${input.name}') for the error`, `get_training_events(name='${input.name}') for Kubernetes-level causes`);
  if (status === 'Running') next.push(`get_training_logs(name='${input.name}') to follow progress`);
  if (status === 'Created') next.push(steps.some((s) => s.unschedulable) ? `get_training_events(name='${input.name}'): pods cannot be scheduled` : `get_training_events(name='${input.name}') if it stays Created`);
  if (status === 'Suspended') next.push(`update_training_job(name='${input.name}', action='resume') to continue`);
  return {
    name: job.metadata.name,
    namespace: job.metadata.namespace,
    status,
    ...(statusReason(job) ? { reason: statusReason(job) } : {}),
    runtime: { name: job.spec?.runtimeRef?.name, kind: job.spec?.runtimeRef?.kind },
    num_nodes: job.spec?.trainer?.numNodes ?? steps.filter((s) => s.name.startsWith('node-')).length,
    steps,
    conditions,
    jobs_status: job.status?.jobsStatus ?? [],
    progress: job.status?.trainerStatus ?? null,
    creation_timestamp: job.metadata.creationTimestamp,
    completion_time: completion?.last_transition ?? null,
    suspended: !!job.spec?.suspend,
    managed_by_mcp: job.metadata.labels?.['kubeflow-mcp/managed-by'] === 'mcp',
    next_steps: next,
  };
}
