// The TrainJob of run_container_training (and of optimize's container trials): an image with an
// optional command and args on a runtime.
import type { RunContainerTrainingInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { baseJob, baseNameOf, resourcesPerNode, schedulingPatch, splitEnv, type Built } from './submit.ts';

/** The TrainJob (and Secret) a run_container_training call describes, not yet submitted. */
export async function buildContainerTraining(input: RunContainerTrainingInput, ctx: ToolContext): Promise<Built> {
  const { job, runtime } = await baseJob(input, ctx, input.runtime ?? 'torch-distributed', baseNameOf(input.image));
  const { env, secret } = splitEnv(input.env, job.metadata.name);
  const res = resourcesPerNode(input.resources_per_node, input.gpu_per_node);
  job.spec.trainer = {
    image: input.image,
    ...(input.command ? { command: input.command } : {}),
    ...(input.args ? { args: input.args } : {}),
    numNodes: input.num_nodes,
    ...(res ? { resourcesPerNode: res } : {}),
    ...(env ? { env } : {}),
  };
  const patches = schedulingPatch(input, ['node']);
  if (patches) job.spec.runtimePatches = patches;
  return { job, secret, runtime, warnings: [] };
}
