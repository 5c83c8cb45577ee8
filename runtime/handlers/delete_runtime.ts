// Deletes a ClusterTrainingRuntime. The preview lists the TrainJobs that reference it, looking
// only in namespaces the policy allows (so it reveals nothing outside them).
import type { DeleteRuntimeInput } from '../../generated/index.ts';
import { Preview, ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';

async function dependents(ctx: ToolContext, name: string) {
  const allowed = ctx.policy.policy?.namespaces;
  const lists = allowed ? await Promise.all(allowed.map((ns) => ctx.kube.list('trainjobs', { namespace: ns }).catch(() => ({ items: [] })))) : [await ctx.kube.list('trainjobs')];
  return lists.flatMap((l) => l.items)
    .filter((j) => j.spec?.runtimeRef?.name === name && (j.spec?.runtimeRef?.kind ?? 'ClusterTrainingRuntime') === 'ClusterTrainingRuntime')
    .map((j) => ({ name: j.metadata.name, namespace: j.metadata.namespace }));
}

export default async function deleteRuntime(input: DeleteRuntimeInput, ctx: ToolContext) {
  await ctx.kube.get('clustertrainingruntimes', input.name).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND') throw new ToolError('RESOURCE_NOT_FOUND', `Runtime '${input.name}' not found`, { runtime: input.name }, 'Use list_runtimes() to see the runtimes.');
    throw e;
  });
  const deps = await dependents(ctx, input.name);
  const warning = deps.length ? `${deps.length} TrainJob(s) reference this runtime; running ones keep their snapshot, new ones will be rejected.` : 'No dependent TrainJobs found.';
  if (!ctx.confirmed) {
    return new Preview(`Will permanently delete ClusterTrainingRuntime '${input.name}'. Call again with confirmed=true to proceed.`, { runtime: input.name, dependent_jobs: deps, dependent_count: deps.length, warning });
  }
  await ctx.kube.remove('clustertrainingruntimes', input.name);
  return { runtime: input.name, deleted: true, dependent_jobs_affected: deps.length, message: `Runtime '${input.name}' deleted` };
}
