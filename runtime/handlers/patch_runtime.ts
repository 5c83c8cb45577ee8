// JSON merge patch on a ClusterTrainingRuntime. The preview shows the merged result, the changed
// paths and the server's dry-run verdict; the live object is untouched until confirmed=true.
import mergePatch from 'json-merge-patch';
import type { PatchRuntimeInput } from '../../generated/index.ts';
import { Preview, ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';

/** Dotted paths whose values differ between a and b. */
export function changedPaths(a: any, b: any, base = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return [base || '(root)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedPaths(a[k], b[k], base ? `${base}.${k}` : k));
}

export default async function patchRuntime(input: PatchRuntimeInput, ctx: ToolContext) {
  const current = await ctx.kube.get('clustertrainingruntimes', input.name).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND') throw new ToolError('RESOURCE_NOT_FOUND', `Runtime '${input.name}' not found`, { runtime: input.name }, 'Use list_runtimes() to see the runtimes.');
    throw e;
  });
  const strip = (o: any) => ({ metadata: { labels: o.metadata?.labels, annotations: o.metadata?.annotations }, spec: o.spec });
  if (!ctx.confirmed) {
    const dry = await ctx.kube.patch('clustertrainingruntimes', input.name, input.patch, undefined, true);
    const local = mergePatch.apply(structuredClone(current), input.patch);
    return new Preview(`Will apply a JSON merge patch to ClusterTrainingRuntime '${input.name}' (lists are replaced, not merged). Call again with confirmed=true to apply.`, {
      runtime: input.name, patch: input.patch, changed_paths: changedPaths(strip(current), strip(local)), result: strip(dry), dry_run: 'accepted by the API server',
    });
  }
  const out = await ctx.kube.patch('clustertrainingruntimes', input.name, input.patch);
  return { runtime: input.name, patched: true, changed_paths: changedPaths(strip(current), strip(out)), resource_version: out.metadata?.resourceVersion, message: `Runtime '${input.name}' patched` };
}
