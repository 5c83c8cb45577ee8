// Logs of one step's pod, found by the labels Trainer really sets (jobset-name, replicatedjob-name,
// job-completion-index). Tail and byte caps; previous attempts on request or after a restart.
import type { GetTrainingLogsInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { JOBSET_LABEL, stepsOf } from '../trainer/views.ts';
import { diagnose } from '../trainer/failure-hints.ts';
import { fetchJob } from './get_training_job.ts';

export default async function getTrainingLogs(input: GetTrainingLogsInput, ctx: ToolContext) {
  await fetchJob(ctx, input.name);
  const pods = (await ctx.kube.list('pods', { namespace: ctx.namespace, labelSelector: `${JOBSET_LABEL}=${input.name}` })).items;
  const mpi = pods.some((p) => p.metadata.labels?.['jobset.sigs.k8s.io/replicatedjob-name'] === 'launcher');
  const steps = stepsOf(pods, mpi);
  const step = steps.find((s) => s.name === input.step);
  if (!step) {
    if (!steps.length) throw new ToolError('RESOURCE_NOT_FOUND', `Training job '${input.name}' has no pods yet`, { job: input.name }, `Check get_training_events(name='${input.name}') for why pods were not created.`);
    throw new ToolError('VALIDATION_ERROR', `Invalid input: 'step' "${input.step}" is not a step of job '${input.name}'`, { available_steps: steps.map((s) => s.name) });
  }
  const pod = pods.find((p) => p.metadata.name === step.pod_name)!;
  const containers = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const container = input.container ?? (containers.includes(step.replicated_job) ? step.replicated_job : containers.includes('node') ? 'node' : containers[0]);
  if (!containers.includes(container)) throw new ToolError('VALIDATION_ERROR', `Invalid input: 'container' "${container}" is not in pod ${pod.metadata.name}`, { containers });
  if (step.status === 'Pending' && !input.previous) {
    return { job: input.name, step: step.name, pod: step.pod_name, container, logs: '', lines: 0, status: 'Pending', message: step.unschedulable ?? `The container has not started yet (${step.waiting ?? 'ContainerCreating'})` };
  }
  const restarted = step.restarts > 0;
  const usePrevious = !!input.previous || (restarted && pod.status?.containerStatuses?.[0]?.state?.waiting !== undefined);
  const read = (previous: boolean) => ctx.kube.podLog(ctx.namespace, pod.metadata.name, { container, tailLines: input.tail_lines, sinceSeconds: input.since_seconds, limitBytes: input.max_bytes, previous });
  const text = await read(usePrevious);
  const truncated = Buffer.byteLength(text) >= input.max_bytes!;
  const lineCount = text ? text.replace(/\n$/, '').split('\n').length : 0;
  const hint = diagnose(text);
  return {
    job: input.name, step: step.name, pod: step.pod_name, container, status: step.status,
    previous: usePrevious, restarts: step.restarts,
    logs: text, lines: lineCount, truncated, tail_lines: input.tail_lines,
    ...(input.follow ? { note: 'Streaming is not available through a tool call; use wait_for_training(name) for progress.' } : {}),
    ...(hint ? { failure_hint: hint, next_steps: [`Detected ${hint.category}: ${hint.suggestion}`] } : {}),
  };
}
