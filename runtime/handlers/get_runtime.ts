// A runtime by name: the namespace's TrainingRuntime first, then the ClusterTrainingRuntime.
import type { GetRuntimeInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { summarizeRuntime } from '../trainer/views.ts';

export async function findRuntime(ctx: ToolContext, name: string): Promise<Record<string, any>> {
  const notFound = (e: ToolError) => { if (e.code !== 'RESOURCE_NOT_FOUND') throw e; return undefined; };
  const local = await ctx.kube.get('trainingruntimes', name, ctx.namespace || 'default').catch(notFound);
  if (local) return { ...local, kind: 'TrainingRuntime' };
  const cluster = await ctx.kube.get('clustertrainingruntimes', name).catch(notFound);
  if (cluster) return { ...cluster, kind: 'ClusterTrainingRuntime' };
  throw new ToolError('RESOURCE_NOT_FOUND', `Runtime '${name}' not found`, { runtime: name }, 'Use list_runtimes() to see the available runtimes.');
}

export default async function getRuntime(input: GetRuntimeInput, ctx: ToolContext) {
  const rt = await findRuntime(ctx, input.name);
  const s = summarizeRuntime(rt);
  return { ...s, ml_policy_spec: rt.spec?.mlPolicy ?? {}, labels: rt.metadata.labels ?? {}, replicated_jobs: (rt.spec?.template?.spec?.replicatedJobs ?? []).map((r: any) => ({ name: r.name, depends_on: r.dependsOn ?? [] })) };
}
