// check_compatibility: the environment checks of trainer/compatibility.ts for one namespace.
import type { CheckCompatibilityInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { compatibility } from '../trainer/compatibility.ts';

export default async function checkCompatibility(input: CheckCompatibilityInput, ctx: ToolContext) {
  return compatibility(ctx, input.namespace ?? (await ctx.kube.defaultNamespace()));
}
