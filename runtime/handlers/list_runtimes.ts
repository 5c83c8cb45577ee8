// ClusterTrainingRuntimes plus the namespace's TrainingRuntimes (namespaced wins on a name
// clash), keeping only runtimes with the framework label, as the SDK does.
import type { ListRuntimesInput } from '../../generated/index.ts';
import type { ToolContext } from '../pipeline.ts';
import { FRAMEWORK_LABEL, summarizeRuntime } from '../trainer/views.ts';

export async function allRuntimes(ctx: ToolContext) {
  const [cluster, local] = await Promise.all([
    ctx.kube.list('clustertrainingruntimes'),
    ctx.kube.list('trainingruntimes', { namespace: ctx.namespace }).catch(() => ({ items: [] })),
  ]);
  const byName = new Map<string, any>();
  for (const rt of cluster.items) byName.set(rt.metadata.name, { ...rt, kind: 'ClusterTrainingRuntime' });
  for (const rt of local.items) byName.set(rt.metadata.name, { ...rt, kind: 'TrainingRuntime' });
  const all = [...byName.values()];
  return { usable: all.filter((r) => r.metadata.labels?.[FRAMEWORK_LABEL]), skipped: all.filter((r) => !r.metadata.labels?.[FRAMEWORK_LABEL]).map((r) => r.metadata.name) };
}

export default async function listRuntimes(_input: ListRuntimesInput, ctx: ToolContext) {
  const { usable, skipped } = await allRuntimes(ctx);
  const runtimes = usable.map(summarizeRuntime).map(({ command, steps, ...r }) => r).sort((a, b) => a.name.localeCompare(b.name));
  return { runtimes, total: runtimes.length, ...(skipped.length ? { skipped_without_framework_label: skipped } : {}) };
}
