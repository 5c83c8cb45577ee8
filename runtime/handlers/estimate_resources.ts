// estimate_resources: the offline memory estimate of trainer/estimate.ts.
import type { EstimateResourcesInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { estimateFor } from '../trainer/estimate.ts';

export default async function estimateResources(input: EstimateResourcesInput, _ctx: ToolContext) {
  return await estimateFor(input);
}
