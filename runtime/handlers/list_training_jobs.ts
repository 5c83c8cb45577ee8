// One list request for the namespace's TrainJobs; counts by status over all of them, then one
// compact page (default 50 rows) with a continue token. Never one request per job.
import type { ListTrainingJobsInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { jobStatus } from '../trainer/views.ts';

export default async function listTrainingJobs(input: ListTrainingJobsInput, ctx: ToolContext) {
  const want = input.status === 'Succeeded' ? 'Complete' : input.status;
  let after = '';
  if (input.continue) {
    try { after = JSON.parse(Buffer.from(input.continue, 'base64url').toString()).after; } catch { /* checked below */ }
    if (typeof after !== 'string' || !after) throw new ToolError('VALIDATION_ERROR', "Invalid input: 'continue' is not a token this tool returned");
  }
  const { items } = await ctx.kube.list('trainjobs', { namespace: ctx.namespace });
  const rows = items
    .filter((j) => !input.runtime || j.spec?.runtimeRef?.name === input.runtime)
    .map((j) => ({ name: j.metadata.name as string, status: jobStatus(j), runtime: j.spec?.runtimeRef?.name ?? null, created: j.metadata.creationTimestamp, progress: j.status?.trainerStatus?.progressPercentage }));
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const filtered = rows.filter((r) => !want || r.status === want).sort((a, b) => a.name.localeCompare(b.name));
  const start = after ? filtered.findIndex((r) => r.name > after) : 0;
  const page = start < 0 ? [] : filtered.slice(start, start + input.limit!);
  const more = start >= 0 && start + page.length < filtered.length;
  return {
    namespace: ctx.namespace,
    total: filtered.length,
    counts_by_status: counts,
    jobs: page.map(({ progress, ...r }) => (progress === undefined ? r : { ...r, progress })),
    ...(more ? { continue: Buffer.from(JSON.stringify({ after: page[page.length - 1].name })).toString('base64url'), remaining: filtered.length - start - page.length } : {}),
  };
}
