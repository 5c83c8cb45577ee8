// The newest records from the in-memory log buffer at or above a level (already redacted).
import type { GetServerLogsInput } from '../../generated/index.ts';
import { LEVEL_ORDER } from '../logger.ts';
import type { ToolContext } from '../pipeline.ts';

export default async function getServerLogs(input: GetServerLogsInput, ctx: ToolContext) {
  const min = LEVEL_ORDER.indexOf(input.level!);
  const { records, total } = ctx.ring.newest(input.limit!, (r) => LEVEL_ORDER.indexOf(r.level) >= min);
  return { logs: records, total, buffer_size: ctx.ring.size };
}
