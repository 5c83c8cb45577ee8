// Polls an OptimizationJob until it finishes, sending one MCP progress notification per poll with
// trials finished of trials planned and the best objective so far; stops at once on cancellation.
import type { WaitForOptimizationInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { bestTrial, optimizationStatus, plannedTrials, TRIAL_OF_LABEL, trialRows } from '../trainer/optimization.ts';

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

export default async function waitForOptimization(input: WaitForOptimizationInput, ctx: ToolContext) {
  const deadline = Date.now() + input.timeout_seconds! * 1000;
  const started = Date.now();
  let polls = 0;
  let reported = -1;
  for (;;) {
    if (ctx.signal.aborted) throw new ToolError('CANCELLED', `Stopped waiting for '${input.name}': the request was cancelled`);
    const oj = await ctx.kube.get('optimizationjobs', input.name, ctx.namespace).catch((e: ToolError) => {
      if (e.code === 'RESOURCE_NOT_FOUND') throw new ToolError('RESOURCE_NOT_FOUND', `Optimization job '${input.name}' not found in namespace '${ctx.namespace}'`, { name: input.name }, ctx.tools.has('list_optimization_jobs') ? 'Use list_optimization_jobs() to find them.' : undefined);
      throw e;
    });
    const trials = (await ctx.kube.list('trainjobs', { namespace: ctx.namespace, labelSelector: `${TRIAL_OF_LABEL}=${input.name}` })).items;
    polls++;
    const objective = oj.spec.objectives[0];
    const rows = trialRows(trials, objective.metric);
    const best = bestTrial(rows, objective.direction ?? 'Minimize');
    const finished = rows.filter((r) => r.status === 'Complete' || r.status === 'Failed').length;
    const planned = plannedTrials(oj);
    const status = optimizationStatus(oj);
    // MCP progress must increase: one notification per newly finished trial (and one to start).
    if (finished > reported) {
      reported = finished;
      await ctx.progress(finished, planned, `${input.name}: ${finished}/${planned} trials finished${best ? `, best ${objective.metric} ${best.objective}` : ''}`).catch(() => {});
    }
    const summary = { name: input.name, status, trials_finished: finished, trials_planned: planned, best, waited_seconds: Math.round((Date.now() - started) / 100) / 10, polls };
    if (status === 'Complete' || status === 'Failed') {
      return { ...summary, finished: true, message: status === 'Complete' ? `All ${planned} trials finished` : `The search failed: ${(oj.status?.conditions ?? []).find((c: any) => c.type === 'Failed')?.message ?? 'every trial failed'}` };
    }
    if (Date.now() >= deadline) {
      return { ...summary, finished: false, message: `Timeout after ${input.timeout_seconds}s`, hint: `Call wait_for_optimization(name='${input.name}') again, or get_optimization_job(name='${input.name}') for the trials` };
    }
    await sleep(Math.min(input.polling_interval! * 1000, Math.max(0, deadline - Date.now())), ctx.signal);
  }
}
