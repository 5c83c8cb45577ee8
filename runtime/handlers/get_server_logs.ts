// The newest records from the in-memory log buffer at or above a level (already redacted).
import type { GetServerLogsInput } from '../../generated/index.ts';
import { LEVEL_ORDER } from '../logger.ts';
import type { ToolContext } from '../pipeline.ts';

export default async function getServerLogs(input: GetServerLogsInput, ctx: ToolContext) {
  const rank = new Map(LEVEL_ORDER.map((l, i) => [l, i]));
  const min = rank.get(input.level!)!;
  const { records, total } = ctx.ring.newest(input.limit!, (r) => (rank.get(r.level) ?? 0) >= min);
  return { logs: records, total, buffer_size: ctx.ring.size };
}
