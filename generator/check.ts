// Cross-spec checks the meta-schema cannot express: references between files, hint targets,
// escape-hatch files, and safety consistency of annotations and the confirm gate.
import { SpecError, type Specs, type ToolSpec } from './load.ts';

/** Resolve {$ref: "defs#/x"} against defs.yaml, recursively; dangling refs are errors. */
export function resolveRefs(node: any, defs: Record<string, any>, where: string, seen: string[] = []): any {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, defs, where, seen));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const m = node.$ref.match(/^defs#\/(\w+)$/);
    if (!m || !(m[1] in defs)) throw new SpecError(`${where}: dangling $ref "${node.$ref}"`);
    if (seen.includes(m[1])) throw new SpecError(`${where}: circular $ref "${node.$ref}"`);
    const { $ref, ...rest } = node;
    return { ...resolveRefs(defs[m[1]], defs, where, [...seen, m[1]]), ...resolveRefs(rest, defs, where, seen) };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveRefs(v, defs, where, seen)]));
}

/** Every `name(` and `trainer://...` a hint mentions. */
export function hintTargets(text: string) {
  const calls = [...text.matchAll(/\b([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]);
  const uris = [...text.matchAll(/\btrainer:\/\/[\w/.-]+/g)].map((m) => m[0]);
  return { calls, uris };
}

export interface CheckOptions { handlerExists: (tool: string) => boolean }

export function checkSpecs(specs: Specs, opts: CheckOptions): void {
  const errors: string[] = [];
  const toolNames = new Set(specs.tools.map((t) => t.name));
  const promptNames = new Set(specs.prompts.map((p) => p.name));
  const uris = new Set(specs.resources.map((r) => r.uri));
  const phases = new Set(specs.phases.map((p) => p.name));
  const personas = specs.personas.personas;

  for (const [name, p] of Object.entries(personas)) {
    if (p.inherits && !personas[p.inherits]) errors.push(`specs/personas.yaml: personas.${name}.inherits: unknown persona "${p.inherits}"`);
  }
  if (!personas[specs.personas.default]) errors.push(`specs/personas.yaml: default: unknown persona "${specs.personas.default}"`);

  const checkHint = (where: string, text: string) => {
    const { calls, uris: used } = hintTargets(text);
    for (const c of calls) if (!toolNames.has(c) && !promptNames.has(c)) errors.push(`${where}: names "${c}()", which is no tool or prompt`);
    for (const u of used) if (!uris.has(u)) errors.push(`${where}: names resource ${u}, which does not exist`);
  };

  for (const t of specs.tools) {
    const at = (path: string) => `${t.file}: ${path}`;
    if (!phases.has(t.phase)) errors.push(`${at('phase')}: unknown phase "${t.phase}"`);
    if (!personas[t.persona]) errors.push(`${at('persona')}: unknown persona "${t.persona}"`);
    if (!specs.modules[t.module]) errors.push(`${at('module')}: unknown module "${t.module}"`);
    checkHint(at('next'), t.next);
    checkToolSafety(t, errors);
    if (t.handler === 'custom' && t.k8s) errors.push(`${at('handler')}: a tool is either declarative (k8s) or custom, not both`);
    if (t.handler !== 'custom' && !t.k8s) errors.push(`${at('k8s')}: a tool without handler: custom needs a declarative k8s operation`);
    const has = opts.handlerExists(t.name);
    if (t.handler === 'custom' && !has) errors.push(`${at('handler')}: runtime/handlers/${t.name}.ts does not exist`);
    if (t.handler !== 'custom' && has) errors.push(`${at('handler')}: runtime/handlers/${t.name}.ts exists but the spec does not say handler: custom`);
    for (const r of t.inputs.required ?? []) if (!(r in (t.inputs.properties ?? {}))) errors.push(`${at('inputs.required')}: "${r}" is not an input`);
    if (t.namespaced && !t.inputs.properties?.namespace) errors.push(`${at('namespaced')}: namespaced tools need a namespace input`);
    try { resolveRefs(t.inputs, specs.defs, t.file); } catch (e) { errors.push((e as Error).message); }
  }
  for (const s of specs.instructions.sections) {
    for (const name of s.tools) if (!toolNames.has(name)) errors.push(`specs/instructions.yaml: section ${s.name}: unknown tool "${name}"`);
    checkHint(`specs/instructions.yaml: section ${s.name}`, s.text);
  }
  for (const p of specs.prompts) checkHint(`specs/prompts.yaml: prompt ${p.name}`, p.text);
  if (errors.length) throw new SpecError(errors.join('\n'));
}

function checkToolSafety(t: ToolSpec, errors: string[]) {
  const at = (path: string) => `${t.file}: ${path}`;
  const a = t.annotations;
  if (a.readOnly && a.destructive) errors.push(`${at('annotations')}: a read-only tool cannot be destructive`);
  if (a.readOnly && t.confirm) errors.push(`${at('confirm')}: read-only tools have nothing to confirm`);
  if (!a.readOnly && !t.confirm && !t.confirmWaiver) errors.push(`${at('confirm')}: a mutating tool must preview first (confirm: true) or give a confirmWaiver`);
  if (a.destructive && !t.confirm) errors.push(`${at('confirm')}: destructive tools must confirm`);
  if (t.confirm && !t.inputs.properties?.confirmed) errors.push(`${at('inputs')}: confirm: true needs a "confirmed" input`);
  if (t.guard && !t.inputs.properties?.name) errors.push(`${at('guard')}: the ownership guard needs a "name" input`);
}
