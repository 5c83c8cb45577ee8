// run_custom_training: the TrainJob of trainer/custom-training.ts, previewed as a dry run or submitted.
import type { RunCustomTrainingInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { buildCustomTraining } from '../trainer/custom-training.ts';
import { previewOrSubmit } from '../trainer/submit.ts';

export default async function runCustomTraining(input: RunCustomTrainingInput, ctx: ToolContext) {
  return previewOrSubmit(await buildCustomTraining(input, ctx), ctx, 'custom training job');
}
