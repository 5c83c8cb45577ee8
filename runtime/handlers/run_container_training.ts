// run_container_training: the TrainJob of trainer/container-training.ts, previewed as a dry run or
// submitted.
import type { RunContainerTrainingInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { buildContainerTraining } from '../trainer/container-training.ts';
import { previewOrSubmit } from '../trainer/submit.ts';

export default async function runContainerTraining(input: RunContainerTrainingInput, ctx: ToolContext) {
  return previewOrSubmit(await buildContainerTraining(input, ctx), ctx, 'container training job');
}
