// Polls a TrainJob until it reaches a target status, sending MCP progress notifications with the
// trainer's progress. It stops at once when the client cancels, and does not wait for what cannot
// come: a suspended job, or pods the scheduler has refused for longer than a short grace period.
import type { WaitForTrainingInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import { JOBSET_LABEL, jobStatus, statusReason, stepsOf } from '../trainer/views.ts';
import { fetchJob } from '../trainer/lookup.ts';
import { diagnose, failedPodOf, missingTokenDiagnosis } from '../trainer/failure-hints.ts';
import { fixStep, oomFix, shapeFix } from '../trainer/fixes.ts';
import { clusterResources } from '../trainer/cluster.ts';

/** Why a failed job failed, from the end of its first trainer pod's log, and the fix for it. */
async function failureFix(ctx: ToolContext, job: Record<string, any>) {
  const pods = (
    await ctx.kube
      .list('pods', { namespace: ctx.namespace, labelSelector: `${JOBSET_LABEL}=${job.metadata.name}` })
      .catch(() => ({ items: [] }))
  ).items;
  const trainer = pods.find((p) =>
    ['node', 'launcher'].includes(p.metadata.labels?.['jobset.sigs.k8s.io/replicatedjob-name']),
  );
  if (!trainer) return undefined;
  const container = trainer.spec?.containers?.[0]?.name;
  const text = await ctx.kube
    .podLog(ctx.namespace, trainer.metadata.name, { container, tailLines: 100, limitBytes: 65536 })
    .catch(() =>
      ctx.kube
        .podLog(ctx.namespace, trainer.metadata.name, { container, tailLines: 100, limitBytes: 65536, previous: true })
        .catch(() => ''),
    );
  const diagnosis = diagnose(text);
  if (!diagnosis) return undefined;
  return { diagnosis, fix: diagnosis.category === 'OOM' ? oomFix(job) : undefined };
}

export default async function waitForTraining(input: WaitForTrainingInput, ctx: ToolContext) {
  const raw = Array.isArray(input.target_statuses) ? input.target_statuses : [input.target_statuses ?? 'Complete'];
  const targets = new Set(raw.map((s) => (s === 'Succeeded' ? 'Complete' : s)));
  const deadline = ctx.clock.now() + input.timeout_seconds! * 1000;
  const started = ctx.clock.now();
  let polls = 0;
  let reported = -1;
  let unschedulableSince: number | undefined;
  const waited = () => Math.round((ctx.clock.now() - started) / 100) / 10;
  for (;;) {
    if (ctx.signal.aborted)
      throw new ToolError('CANCELLED', `Stopped waiting for '${input.name}': the request was cancelled`);
    const job = await fetchJob(ctx, input.name);
    polls++;
    const status = jobStatus(job);
    const pct = job.status?.trainerStatus?.progressPercentage;
    // MCP progress must increase, so a poll that saw no progress sends nothing.
    const value = pct ?? (status === 'Complete' ? 100 : 0);
    if (value > reported) {
      reported = value;
      await ctx.progress(value, 100, `${input.name}: ${status}${pct !== undefined ? ` ${pct}%` : ''}`).catch(() => {});
    }
    if (targets.has(status)) {
      return {
        job: input.name,
        status,
        reached: true,
        message: `Job reached '${status}'`,
        waited_seconds: waited(),
        polls,
        progress: job.status?.trainerStatus ?? null,
      };
    }
    if ((status === 'Failed' || status === 'Complete') && !targets.has(status)) {
      const fix = status === 'Failed' ? await failureFix(ctx, job) : undefined;
      const hint = fix?.fix
        ? fixStep(fix.fix)
        : status === 'Failed'
          ? await failedStepHint(ctx, job, input.name)
          : `See get_training_job(name='${input.name}').`;
      throw new ToolError(
        status === 'Failed' ? 'JOB_FAILED' : 'VALIDATION_ERROR',
        `Training job '${input.name}' ended ${status}, which is not a target status`,
        {
          job: input.name,
          status,
          reason: statusReason(job),
          ...(fix ? { diagnosis: fix.diagnosis, fix: fix.fix } : {}),
        },
        hint,
      );
    }
    if (status === 'Suspended') {
      return {
        job: input.name,
        status,
        reached: false,
        stopped_because: 'suspended',
        waited_seconds: waited(),
        polls,
        message: 'The job is suspended: it will not progress until it is resumed',
        ...(ctx.tools.has('update_training_job')
          ? { hint: `Resume it with update_training_job(name='${input.name}', action='resume')` }
          : {}),
      };
    }
    if (status === 'Created') {
      // Pods the scheduler keeps refusing will not start by waiting; say why instead.
      const pods = (
        await ctx.kube.list('pods', { namespace: ctx.namespace, labelSelector: `${JOBSET_LABEL}=${input.name}` })
      ).items;
      const refused = pods
        .map((p) =>
          (p.status?.conditions ?? []).find(
            (c: any) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
          ),
        )
        .find(Boolean);
      unschedulableSince = refused ? (unschedulableSince ?? ctx.clock.now()) : undefined;
      if (refused && ctx.clock.now() - unschedulableSince! >= input.unschedulable_grace_seconds! * 1000) {
        // Free GPUs node by node: a distributed job needs all its nodes at once, so only a shape
        // whose every node fits now is offered.
        const cluster = await clusterResources(ctx, 500).catch(() => undefined);
        const fix = shapeFix(job, cluster?.free_per_node ?? {});
        return {
          job: input.name,
          status,
          reached: false,
          stopped_because: 'unschedulable',
          waited_seconds: waited(),
          polls,
          message: `Its pods cannot be scheduled: ${refused.message}`,
          ...(fix
            ? { fix, hint: fixStep(fix) }
            : { hint: `See get_training_events(name='${input.name}'); ask for fewer GPUs or wait for capacity` }),
        };
      }
    }
    if (ctx.clock.now() >= deadline) {
      return {
        job: input.name,
        status,
        reached: false,
        stopped_because: 'timeout',
        message: `Timeout after ${input.timeout_seconds}s`,
        waited_seconds: waited(),
        polls,
        hint: `Call wait_for_training(name='${input.name}') again, or see get_training_events(name='${input.name}')`,
      };
    }
    await ctx.clock.sleep(
      Math.min(input.polling_interval! * 1000, Math.max(0, deadline - ctx.clock.now())),
      ctx.signal,
    );
  }
}

/** What to read about a failed job with no known fix: the step that failed, not one that never ran. */
async function failedStepHint(ctx: ToolContext, job: any, name: string): Promise<string> {
  const token = missingTokenDiagnosis(job);
  if (token) return token.suggestion;
  const pods = (
    await ctx.kube
      .list('pods', { namespace: ctx.namespace, labelSelector: `${JOBSET_LABEL}=${name}` })
      .catch(() => ({ items: [] as any[] }))
  ).items;
  const failed = failedPodOf(pods);
  const step = failed ? stepsOf([failed], false)[0]?.name : undefined;
  return step
    ? `Check get_training_logs(name='${name}', step='${step}') (the step that failed) and get_training_events(name='${name}').`
    : `Check get_training_events(name='${name}') and get_training_job(name='${name}').`;
}
