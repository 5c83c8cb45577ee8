// Cross-file checks the meta-schemas cannot express: references between files, hint targets,
// escape-hatch files, safety consistency of annotations and the confirm gate, and (through
// operations.ts) the meaning of every tool's steps. Problems carry file:line:col.
import type { Specs, ToolSpec } from './load.ts';
import { closest, type Path, type Problems, type SourceFile } from './source.ts';
import { GUARDS } from './guards.ts';
import { markerOf, parseGuide, toolsIn, unknownTerms, type ReferenceContext } from './references.ts';

/** Resolve {$ref: "defs#/x"} against defs.yaml, recursively; dangling refs are reported. */
export function resolveRefs(
  node: any,
  defs: Record<string, any>,
  report: (message: string, suggestion?: string) => void,
  seen: string[] = [],
): any {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, defs, report, seen));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const { $ref, ...rest } = node;
    const m = $ref.match(/^defs#\/(\w+)$/);
    if (!m || !(m[1] in defs)) {
      report(`dangling $ref "${$ref}"`, m ? closest(m[1], Object.keys(defs)) : undefined);
      return resolveRefs(rest, defs, report, seen);
    }
    if (seen.includes(m[1])) {
      report(`circular $ref "${$ref}"`);
      return rest;
    }
    return { ...resolveRefs(defs[m[1]], defs, report, [...seen, m[1]]), ...resolveRefs(rest, defs, report, seen) };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveRefs(v, defs, report, seen)]));
}

/** Every `name(` and `trainer://...` a hint mentions. */
export function hintTargets(text: string) {
  const calls = [...text.matchAll(/\b([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]);
  const uris = [...text.matchAll(/\btrainer:\/\/[\w/.-]+/g)].map((m) => m[0]);
  return { calls, uris };
}

export interface CheckOptions {
  handlerExists: (tool: string) => boolean;
  /** The tools of the last generated output: a budget error names the new ones that pushed it over. */
  previousTools?: ReadonlySet<string>;
  /** Where notes that are not errors go (headroom running low); unset, they are dropped. */
  notes?: (text: string) => void;
}

/** Names a tool may not take: the meta-tools of the progressive and semantic modes (a tool of the
 * same name would be shadowed by them) and the names other MCP servers commonly give theirs. */
export const RESERVED_TOOL_NAMES = [
  'execute_tool',
  'list_tools',
  'describe_tools',
  'find_tools',
  'search_tools',
  'call_tool',
  'get_tool',
  'run_tool',
];

export function makeHintChecker(specs: Specs, problems: Problems) {
  const known = [...specs.tools.map((t) => t.name), ...specs.prompts.map((p) => p.name)];
  const uris = specs.resources.map((r) => r.uri);
  const ctx = referencesOf(specs);
  return (file: SourceFile | undefined, path: Path, text: string) => {
    const { calls, uris: used } = hintTargets(text);
    for (const c of calls)
      if (!known.includes(c)) problems.at(file, path, `names "${c}()", which is no tool or prompt`, closest(c, known));
    for (const u of used)
      if (!uris.includes(u)) problems.at(file, path, `names resource ${u}, which does not exist`, closest(u, uris));
    for (const line of text.split('\n')) {
      const m = markerOf(line);
      if (m)
        for (const t of unknownTerms(m.cond, ctx))
          problems.at(
            file,
            path,
            `a marker names "${t}", which is no tool${t.startsWith('@') ? ' group' : ''}`,
            closest(t.replace(/^@/, ''), t.startsWith('@') ? Object.keys(ctx.groups) : ctx.allTools),
          );
    }
  };
}

/** What references are resolved against: every tool, and the groups a marker may name as @group
 * (`previews`: the tools that preview before they change anything; `writes`: every tool that is not read-only). */
export function referencesOf(specs: Specs): ReferenceContext {
  const names = (f: (t: ToolSpec) => boolean) =>
    specs.tools
      .filter(f)
      .map((t) => t.name)
      .sort();
  return {
    allTools: names(() => true),
    groups: { previews: names((t) => !!t.confirm), writes: names((t) => !t.annotations.readOnly) },
  };
}

export function checkSpecs(specs: Specs, opts: CheckOptions, problems: Problems): void {
  const src = (rel: string) => specs.sources.get(rel);
  const toolNames = specs.tools.map((t) => t.name);
  const phases = specs.phases.map((p) => p.name);
  const personas = specs.personas.personas;
  const checkHint = makeHintChecker(specs, problems);

  for (const [name, p] of Object.entries(personas)) {
    if (p.inherits && !personas[p.inherits])
      problems.at(
        src('personas.yaml'),
        ['personas', name, 'inherits'],
        `unknown persona "${p.inherits}"`,
        closest(p.inherits, Object.keys(personas)),
      );
  }
  if (!personas[specs.personas.default])
    problems.at(
      src('personas.yaml'),
      ['default'],
      `unknown persona "${specs.personas.default}"`,
      closest(specs.personas.default, Object.keys(personas)),
    );

  for (const t of specs.tools) {
    const f = t.source;
    if (RESERVED_TOOL_NAMES.includes(t.name))
      problems.at(
        f,
        ['name'],
        `"${t.name}" is reserved: the server's meta-tools use it (reserved: ${RESERVED_TOOL_NAMES.join(', ')}); name the tool for what it does`,
      );
    if (!phases.includes(t.phase)) problems.at(f, ['phase'], `unknown phase "${t.phase}"`, closest(t.phase, phases));
    if (!personas[t.persona])
      problems.at(f, ['persona'], `unknown persona "${t.persona}"`, closest(t.persona, Object.keys(personas)));
    if (!specs.modules[t.module])
      problems.at(f, ['module'], `unknown module "${t.module}"`, closest(t.module, Object.keys(specs.modules)));
    const alternatives = typeof t.next === 'string' ? [{ text: t.next }] : t.next;
    alternatives.forEach((n, i) => {
      const at = typeof t.next === 'string' ? ['next'] : ['next', i, 'text'];
      checkHint(f, at, n.text);
      // The hint follows this tool's own answer: calling the same tool again is never the next step.
      if (toolsIn(n.text, toolNames).includes(t.name))
        problems.at(f, at, `the hint names ${t.name} itself; say what follows its answer instead`);
    });
    if (Array.isArray(t.next))
      t.next.forEach((n, i) => {
        if ((i === t.next.length - 1) === (n.when !== undefined))
          problems.at(
            f,
            ['next', i],
            i === t.next.length - 1
              ? 'the last hint is the default: it takes no when'
              : 'every hint but the last needs a when',
          );
      });
    if (t.guard && !(t.guard in GUARDS))
      problems.at(
        f,
        ['guard'],
        `unknown guard "${t.guard}" (guards: ${Object.keys(GUARDS).join(', ')})`,
        closest(t.guard, Object.keys(GUARDS)),
      );
    checkToolSafety(t, problems);
    const has = opts.handlerExists(t.name);
    if (t.handler === 'custom' && !has) problems.at(f, ['handler'], `runtime/handlers/${t.name}.ts does not exist`);
    if (t.handler !== 'custom' && has)
      problems.at(f, ['name'], `runtime/handlers/${t.name}.ts exists but the spec does not say handler: custom`);
    const props = Object.keys(t.inputs.properties ?? {});
    (t.inputs.required ?? []).forEach((r, i) => {
      if (!props.includes(r)) problems.at(f, ['inputs', 'required', i], `"${r}" is not an input`, closest(r, props));
    });
    if (t.namespaced && !props.includes('namespace'))
      problems.at(f, ['namespaced'], 'namespaced tools need a namespace input');
    if (!t.namespaced && props.includes('namespace'))
      problems.at(
        f,
        ['inputs', 'properties', 'namespace'],
        'a tool with a namespace input must say namespaced: true, so the namespace policy applies to it',
      );
    resolveRefs(t.inputs, specs.defs, (message, suggestion) => problems.at(f, ['inputs'], message, suggestion));
    checkAdvanced(t, props, problems);
  }
  const instr = src('instructions.yaml');
  specs.instructions.sections.forEach((s, i) => {
    s.tools.forEach((name, j) => {
      if (!toolNames.includes(name))
        problems.at(instr, ['sections', i, 'tools', j], `unknown tool "${name}"`, closest(name, toolNames));
    });
    checkHint(instr, ['sections', i, 'text'], s.text);
  });
  checkHint(instr, ['header'], specs.instructions.header);
  specs.prompts.forEach((p, i) => checkHint(src('prompts.yaml'), ['prompts', i, 'text'], p.text));
  specs.resources.forEach((r, i) => {
    if (r.module && !specs.modules[r.module])
      problems.at(
        src('resources.yaml'),
        ['resources', i, 'module'],
        `unknown module "${r.module}"`,
        closest(r.module, Object.keys(specs.modules)),
      );
    for (const p of parseGuide(r.text, referencesOf(specs)).problems)
      problems.at(src('resources.yaml'), ['resources', i, 'file'], `${r.file}:${p.line}: ${p.message}`);
    // Guides quote Python calls too (train(), init_process_group()), so only their URIs are checked here.
    for (const u of hintTargets(r.text).uris)
      if (!specs.resources.some((x) => x.uri === u))
        problems.at(
          src('resources.yaml'),
          ['resources', i, 'file'],
          `${r.file} names resource ${u}, which does not exist`,
        );
  });
}

/** Advanced inputs are left out of tools/list and shown in the preview instead, so an agent learns
 * of them only from a preview: the tool must have one, and nothing it needs to call it may be hidden. */
function checkAdvanced(t: ToolSpec, props: string[], problems: Problems) {
  const essential = new Set([...(t.inputs.required ?? []), 'confirmed', 'namespace', 'name']);
  (t.inputs.advanced ?? []).forEach((a) => {
    const at = ['inputs', 'advanced'];
    if (!props.includes(a))
      problems.at(t.source, at, `"${a}" is neither an input nor an included group`, closest(a, props));
    else if (essential.has(a))
      problems.at(t.source, at, `"${a}" cannot be advanced: it is required or needed on every call`);
  });
  if (t.inputs.advanced?.length && !t.confirm)
    problems.at(
      t.source,
      ['inputs', 'advanced'],
      'only a tool that previews (confirm: true) may have advanced inputs: the preview is where they are listed',
    );
}

function checkToolSafety(t: ToolSpec, problems: Problems) {
  const f = t.source;
  const a = t.annotations;
  if (a.readOnly && a.destructive) problems.at(f, ['annotations'], 'a read-only tool cannot be destructive');
  if (a.readOnly && t.confirm) problems.at(f, ['confirm'], 'read-only tools have nothing to confirm');
  if (!a.readOnly && !t.confirm && !t.confirmWaiver)
    problems.at(f, ['confirm'], 'a mutating tool must preview first (confirm: true) or give a confirmWaiver');
  if (a.destructive && !t.confirm) problems.at(f, ['confirm'], 'destructive tools must confirm');
  if (t.confirm && !t.inputs.properties?.confirmed)
    problems.at(f, ['inputs'], 'confirm: true needs a "confirmed" input');
  if (t.guard && !t.inputs.properties?.name) problems.at(f, ['guard'], 'the ownership guard needs a "name" input');
  if (t.guard && a.readOnly)
    problems.at(f, ['guard'], 'the ownership guard protects changes; a read-only tool has none');
}
