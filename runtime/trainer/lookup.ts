// Lookups the hand-written training tools share: a job by name, a runtime by name (namespaced
// first), and every usable runtime. The declarative tools express the same reads in their steps.
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import { FRAMEWORK_LABEL } from './views.ts';

export async function fetchJob(ctx: ToolContext, name: string) {
  return ctx.kube.get('trainjobs', name, ctx.namespace).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND')
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Training job '${name}' not found in namespace '${ctx.namespace}'`,
        { job: name, namespace: ctx.namespace },
        'Use list_training_jobs() to find jobs.',
      );
    throw e;
  });
}

export async function findRuntime(ctx: ToolContext, name: string): Promise<Record<string, any>> {
  const notFound = (e: ToolError) => {
    if (e.code !== 'RESOURCE_NOT_FOUND') throw e;
    return undefined;
  };
  const local = await ctx.kube.get('trainingruntimes', name, ctx.namespace || 'default').catch(notFound);
  if (local) return { ...local, kind: 'TrainingRuntime' };
  const cluster = await ctx.kube.get('clustertrainingruntimes', name).catch(notFound);
  if (cluster) return { ...cluster, kind: 'ClusterTrainingRuntime' };
  throw new ToolError(
    'RESOURCE_NOT_FOUND',
    `Runtime '${name}' not found`,
    { runtime: name },
    'Use list_runtimes() to see the available runtimes.',
  );
}

/** ClusterTrainingRuntimes plus the namespace's TrainingRuntimes (namespaced wins on a name clash). */
export async function allRuntimes(ctx: ToolContext) {
  const [cluster, local] = await Promise.all([
    ctx.kube.list('clustertrainingruntimes'),
    ctx.kube.list('trainingruntimes', { namespace: ctx.namespace }).catch(() => ({ items: [] })),
  ]);
  const byName = new Map<string, any>();
  for (const rt of cluster.items) byName.set(rt.metadata.name, { ...rt, kind: 'ClusterTrainingRuntime' });
  for (const rt of local.items) byName.set(rt.metadata.name, { ...rt, kind: 'TrainingRuntime' });
  const all = [...byName.values()];
  return {
    usable: all.filter((r) => r.metadata.labels?.[FRAMEWORK_LABEL]),
    skipped: all.filter((r) => !r.metadata.labels?.[FRAMEWORK_LABEL]).map((r) => r.metadata.name),
  };
}
