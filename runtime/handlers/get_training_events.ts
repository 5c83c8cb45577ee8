// Events of the TrainJob and everything it owns: one events list and one pods list, filtered by
// the object names Trainer and JobSet use (<name>, <name>-<rjob>-0, pod names).
import type { GetTrainingEventsInput } from '../../generated/index.ts';
import type { ToolContext } from '../pipeline.ts';
import { fetchJob } from './get_training_job.ts';

export default async function getTrainingEvents(input: GetTrainingEventsInput, ctx: ToolContext) {
  await fetchJob(ctx, input.name);
  const events = (await ctx.kube.list('events', { namespace: ctx.namespace })).items;
  const own = (e: any) => {
    const n: string = e.involvedObject?.name ?? '';
    return n === input.name || n.startsWith(`${input.name}-`);
  };
  // events.k8s.io-style events may lack firstTimestamp (the SDK drops them); fall back, never drop.
  // client-node hands timestamps over as Date objects; compare and return them as ISO text.
  const iso = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString() : (v as string | undefined) ?? undefined);
  const last = (e: any): string => iso(e.lastTimestamp) ?? iso(e.eventTime) ?? iso(e.firstTimestamp) ?? iso(e.metadata?.creationTimestamp) ?? '';
  const first = (e: any): string => iso(e.firstTimestamp) ?? last(e);
  const rows = events.filter(own).filter((e) => !input.warnings_only || e.type === 'Warning')
    .sort((a, b) => first(a).localeCompare(first(b)))
    .map((e) => ({
      type: e.type, reason: e.reason, message: e.message, involved_object_kind: e.involvedObject?.kind, involved_object_name: e.involvedObject?.name,
      count: e.count ?? 1, first_seen: iso(e.firstTimestamp) ?? null, last_seen: last(e) || null, event_time: first(e),
    }));
  const shown = rows.slice(Math.max(0, rows.length - input.limit!));
  return { job: input.name, namespace: ctx.namespace, total: rows.length, warnings: rows.filter((r) => r.type === 'Warning').length, events: shown, ...(shown.length < rows.length ? { omitted_oldest: rows.length - shown.length } : {}) };
}
