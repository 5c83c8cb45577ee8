// get_cluster_resources: what the cluster has and has free (see trainer/cluster.ts), without the
// per-node lists the planning tools use; GPUs of several vendors are added up with a note saying so.
import type { GetClusterResourcesInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { clusterResources } from '../trainer/cluster.ts';

export default async function getClusterResources(input: GetClusterResourcesInput, ctx: ToolContext) {
  const { free_per_node: _perNode, gpu_nodes: _gpuNodes, ...answer } = await clusterResources(ctx, input.max_nodes);
  const vendors = Object.keys(answer.gpu_free_by_resource);
  return vendors.length > 1 ? { ...answer, gpu_note: `gpu_total and gpu_free add up ${vendors.join(' and ')}; a job asks for one of them by name, so count the one it requests` } : answer;
}
