// specs/views.yaml -> generated/views.ts: the MCP App views, which tools open each one and what
// they read. The view and the tool must agree on the data, so every field a view reads has to be
// in the tool's outputSchema (for previews: in the preview envelope the pipeline sends), and a
// view may only offer actions that preview before they write. A specs folder without views.yaml
// has no views (the generator's fixtures).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile, type Problems } from './source.ts';
import type { Specs } from './load.ts';
import type { ToolAnalysis } from './operations.ts';
import type { ViewDecl } from './descriptor.ts';

/** Fields of every preview answer (runtime/envelope.ts Preview, plus more_options from the pipeline). */
const PREVIEW_FIELDS = ['status', 'message', 'config', 'more_options'];
const IMAGES = ['loss', 'objective'];
const VIEW_KEYS = ['name', 'title', 'description', 'tools', 'previews', 'polls', 'actions', 'image'];

export const viewUri = (name: string) => `ui://kubeflow-mcp/${name}`;

/** The checked declarations, or undefined when there is no views.yaml. */
export function loadViews(
  specs: Specs,
  analyses: Map<string, ToolAnalysis>,
  problems: Problems,
): ViewDecl[] | undefined {
  const abs = join(specs.root, 'views.yaml');
  if (!existsSync(abs)) return undefined;
  const file = SourceFile.read(abs, 'specs/views.yaml', problems);
  const doc = file.value;
  if (doc === undefined) return [];
  if (!doc || !Array.isArray(doc.views)) {
    problems.at(file, [], 'must have a list `views`');
    return [];
  }
  const tools = new Map(specs.tools.map((t) => [t.name, t]));
  const names = [...tools.keys()];
  const closest = (n: string) => names.find((k) => k.includes(n) || n.includes(k));
  const fieldsOf = (tool: string) => Object.keys((analyses.get(tool)?.outputSchema as any)?.properties ?? {});
  const out: ViewDecl[] = [];
  const linked = new Map<string, string>();
  /** A tool -> fields map: each tool must exist and each field be in its outputSchema. */
  const toolFields = (v: any, i: number, key: 'tools' | 'polls'): Record<string, string[]> => {
    const m = v[key] ?? {};
    if (typeof m !== 'object' || Array.isArray(m)) {
      problems.at(file, ['views', i, key], 'must map tool names to the fields read');
      return {};
    }
    for (const [tool, fields] of Object.entries<any>(m)) {
      if (!tools.has(tool)) {
        problems.at(file, ['views', i, key, tool], `no tool named ${tool}`, closest(tool));
        continue;
      }
      if (!Array.isArray(fields) || !fields.length) {
        problems.at(file, ['views', i, key, tool], 'must list the fields the view reads');
        continue;
      }
      const known = fieldsOf(tool);
      fields.forEach((f: unknown, j: number) => {
        if (typeof f !== 'string' || !known.includes(f))
          problems.at(
            file,
            ['views', i, key, tool, j],
            `${tool}'s outputSchema has no field ${JSON.stringify(f)} (it has ${known.join(', ')})`,
            known.find((k) => typeof f === 'string' && (k.includes(f) || f.includes(k))),
          );
      });
    }
    return m;
  };
  doc.views.forEach((v: any, i: number) => {
    if (!v || typeof v !== 'object') {
      problems.at(file, ['views', i], 'must be a map');
      return;
    }
    for (const k of Object.keys(v))
      if (!VIEW_KEYS.includes(k)) problems.at(file, ['views', i, k], `unknown key (known: ${VIEW_KEYS.join(', ')})`);
    if (typeof v.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(v.name)) {
      problems.at(file, ['views', i, 'name'], 'must be a lower-case name');
      return;
    }
    if (out.some((o) => o.name === v.name)) problems.at(file, ['views', i, 'name'], `view ${v.name} is declared twice`);
    for (const k of ['title', 'description'])
      if (typeof v[k] !== 'string' || !v[k]) problems.at(file, ['views', i, k], 'must be a non-empty string');
    let shown: Record<string, string[]>;
    if (v.previews !== undefined) {
      if (v.tools !== undefined)
        problems.at(file, ['views', i, 'previews'], 'a view shows either `tools` or `previews`, not both');
      if (!Array.isArray(v.previews)) problems.at(file, ['views', i, 'previews'], 'must list the preview fields read');
      (v.previews ?? []).forEach((f: unknown, j: number) => {
        if (!PREVIEW_FIELDS.includes(f as string))
          problems.at(
            file,
            ['views', i, 'previews', j],
            `a preview has no field ${JSON.stringify(f)} (it has ${PREVIEW_FIELDS.join(', ')})`,
          );
      });
      shown = Object.fromEntries(specs.tools.filter((t) => t.confirm).map((t) => [t.name, v.previews]));
    } else shown = toolFields(v, i, 'tools');
    if (!Object.keys(shown).length) problems.at(file, ['views', i], 'shows no tool: give `tools` or `previews`');
    for (const tool of Object.keys(shown)) {
      const other = linked.get(tool);
      if (other)
        problems.at(file, ['views', i, 'tools', tool], `${tool} already opens view ${other}; a tool links to one view`);
      linked.set(tool, v.name);
    }
    const polls = toolFields(v, i, 'polls');
    for (const p of Object.keys(polls))
      if (tools.get(p) && !tools.get(p)!.annotations.readOnly)
        problems.at(file, ['views', i, 'polls', p], `${p} changes the cluster; a view polls read-only tools only`);
    const actions: string[] = v.actions ?? [];
    if (!Array.isArray(actions)) problems.at(file, ['views', i, 'actions'], 'must list tool names');
    else
      actions.forEach((a, j) => {
        const t = tools.get(a);
        if (!t) problems.at(file, ['views', i, 'actions', j], `no tool named ${a}`, closest(a));
        else if (!t.confirm)
          problems.at(
            file,
            ['views', i, 'actions', j],
            `${a} does not preview before it writes; a view offers only actions that do`,
          );
      });
    if (v.image !== undefined && !IMAGES.includes(v.image))
      problems.at(file, ['views', i, 'image'], `must be one of ${IMAGES.join(', ')}`);
    out.push({
      name: v.name,
      uri: viewUri(v.name),
      title: v.title,
      description: v.description,
      tools: shown,
      polls,
      actions: Array.isArray(actions) ? actions : [],
      image: v.image ?? null,
    });
  });
  return out;
}

/** generated/views.ts, or nothing when the specs declare no views. */
export function viewFiles(specs: Specs, analyses: Map<string, ToolAnalysis>): Map<string, string> {
  const views = loadViews(specs, analyses, specs.problems);
  specs.problems.throwIfAny();
  if (!views) return new Map();
  const links = Object.fromEntries(
    views.flatMap((v) => Object.keys(v.tools).map((t) => [t, v.uri])).sort(([a], [b]) => a.localeCompare(b)),
  );
  const text = `// Generated by \`npm run gen\` from specs/views.yaml. Do not edit by hand.

import type { ViewDecl } from './types.ts';

export const VIEWS: ViewDecl[] = ${JSON.stringify(views, null, 2)};

/** Tool -> the ui:// resource that shows its answer. */
export const VIEW_OF_TOOL: Record<string, string> = ${JSON.stringify(links, null, 2)};
`;
  return new Map([['generated/views.ts', text]]);
}
