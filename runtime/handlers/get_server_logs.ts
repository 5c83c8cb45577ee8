// The newest records from the in-memory log buffer at or above a level (already redacted). On a
// server shared by authenticated callers, each sees only the records of their own calls (others'
// calls name their jobs and namespaces); platform-admin sees everything.
import type { GetServerLogsInput } from '../../generated/index.ts';
import { LEVEL_ORDER } from '../logger.ts';
import type { ToolContext } from '../context.ts';

export default async function getServerLogs(input: GetServerLogsInput, ctx: ToolContext) {
  const rank = new Map(LEVEL_ORDER.map((l, i) => [l, i]));
  const min = rank.get(input.level!)!;
  const mine = ctx.principal && !ctx.bypassOwnership ? (r: { caller?: unknown }) => r.caller === ctx.principal : () => true;
  const { records, total } = ctx.ring.newest(input.limit!, (r) => (rank.get(r.level) ?? 0) >= min && mine(r as { caller?: unknown }));
  return { logs: records, total, buffer_size: ctx.ring.size };
}
