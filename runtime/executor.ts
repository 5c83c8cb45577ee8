// Runs the declarative `k8s:` operation of a tool spec: get, list, delete or merge-patch one
// resource, with a server-side dry run as the preview of mutating verbs, and a result built from
// `$input.<field>`, `$namespace` and dotted paths into the returned object.
import type { ToolDescriptor } from '../generated/index.ts';
import { Preview } from './envelope.ts';
import type { ToolContext } from './pipeline.ts';

const at = (o: any, path: string) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);

/** Fills a patch template: {$map: input, values: {...}} picks by an input's value. */
function fill(tpl: any, input: Record<string, any>): any {
  if (Array.isArray(tpl)) return tpl.map((x) => fill(x, input));
  if (tpl && typeof tpl === 'object') {
    if ('$map' in tpl) return tpl.values[input[tpl.$map]];
    if ('$input' in tpl) return input[tpl.$input];
    return Object.fromEntries(Object.entries(tpl).map(([k, v]) => [k, fill(v, input)]));
  }
  return tpl;
}

function project(spec: Record<string, unknown> | undefined, input: Record<string, any>, ns: string, obj: any) {
  if (!spec) return obj;
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => {
    if (typeof v !== 'string') return [k, v];
    if (v === '$namespace') return [k, ns];
    if (v.startsWith('$input.')) return [k, input[v.slice(7)]];
    return [k, at(obj, v)];
  }));
}

export async function runDeclarative(tool: ToolDescriptor<any>, input: Record<string, any>, ctx: ToolContext): Promise<unknown> {
  const op = tool.k8s!;
  const ns = tool.namespaced ? ctx.namespace : undefined;
  switch (op.verb) {
    case 'get':
      return project(op.fields, input, ctx.namespace, await ctx.kube.get(op.resource, input.name, ns));
    case 'list': {
      const res = await ctx.kube.list(op.resource, { namespace: ns, limit: input.limit, continueToken: input.continue });
      return { items: res.items.map((o) => project(op.fields, input, ctx.namespace, o)), total: res.items.length, ...(res.continueToken ? { continue: res.continueToken } : {}) };
    }
    case 'delete':
    case 'patch': {
      const body = op.verb === 'patch' ? fill(op.patch, input) : undefined;
      const run = (dryRun: boolean) => (op.verb === 'patch'
        ? ctx.kube.patch(op.resource, input.name, body, ns, dryRun)
        : ctx.kube.remove(op.resource, input.name, ns, dryRun));
      if (!ctx.confirmed) {
        // The server-side dry run proves the change would be accepted, and changes nothing.
        const dry = await run(true);
        return new Preview(`Will ${op.verb} ${op.resource} '${input.name}'${ns ? ` in namespace '${ns}'` : ''}. Call again with confirmed=true to proceed.`, {
          action: op.verb, resource: op.resource, name: input.name, namespace: ns, ...(body ? { patch: body } : {}),
          dry_run: project(op.result, input, ctx.namespace, dry),
        });
      }
      const out = await run(false);
      return { ...project(op.result, input, ctx.namespace, out), message: `${op.resource} '${input.name}' ${op.verb === 'delete' ? 'deleted' : 'updated'}` };
    }
  }
}
