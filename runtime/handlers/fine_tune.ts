// fine_tune: the TrainJob of trainer/fine-tune.ts, previewed as a dry run or submitted.
import type { FineTuneInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { buildFineTune } from '../trainer/fine-tune.ts';
import { previewOrSubmit } from '../trainer/submit.ts';

export default async function fineTune(input: FineTuneInput, ctx: ToolContext) {
  return previewOrSubmit(await buildFineTune(input, ctx), ctx, 'fine-tuning job');
}
