// The newest records from the in-memory log buffer at or above a level (already redacted).
import type { GetServerLogsInput } from '../../generated/index.ts';
import { LEVEL_ORDER } from '../logger.ts';
import type { ToolContext } from '../pipeline.ts';

export default async function getServerLogs(input: GetServerLogsInput, ctx: ToolContext) {
  const min = LEVEL_ORDER.indexOf(input.level!);
  const matching = ctx.ring.records.filter((r) => LEVEL_ORDER.indexOf(r.level) >= min);
  return { logs: matching.slice(-input.limit!), total: matching.length, buffer_size: ctx.ring.size };
}
