// The schemas a tool is advertised and validated with, each a function of its spec and its input
// schema (refs inlined): what the validator enforces, what describe_tools shows, what tools/list
// sends, and the MCP annotations. The IR (ir.ts) computes each once per tool.
import { resolveRefs } from './check.ts';
import type { ToolSpec } from './load.ts';

/** A tool's input as JSON Schema: an object of named properties. */
export interface InputSchema {
  type: 'object';
  properties: Record<string, any>;
  required?: string[];
  additionalProperties: false;
}

/** The JSON Schema a tool validates: refs inlined, an object with no extra keys. */
export function inputSchemaOf(t: ToolSpec, defs: Record<string, any>): InputSchema {
  const inputs = resolveRefs(t.inputs, defs, () => {});
  return {
    type: 'object',
    properties: inputs.properties ?? {},
    ...(inputs.required?.length ? { required: inputs.required } : {}),
    additionalProperties: false,
  };
}

/** Keywords only the server-side validator needs; advertising them adds nothing an agent needs to
 * call the tool (a violation comes back as a VALIDATION_ERROR that names the field). */
const VALIDATION_ONLY = new Set([
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'propertyNames',
  'uniqueItems',
]);

/** The schema describe_tools shows: the input schema without validation-only keywords. */
export function advertisedSchema(node: any): any {
  if (Array.isArray(node)) return node.map(advertisedSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (VALIDATION_ONLY.has(k) || (k === 'additionalProperties' && v === false)) continue;
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, advertisedSchema(pv)]))
        : advertisedSchema(v);
  }
  return out;
}

/** Numeric bounds: the validator enforces them and its error names the bound, so tools/list,
 * paid for on every turn, leaves them out. */
const BOUNDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

/** A value or a list of such values: listed as the list (the validator accepts a lone value too). */
const listOrOne = (n: any) =>
  Array.isArray(n.oneOf) &&
  n.oneOf.length === 2 &&
  n.oneOf[1].type === 'array' &&
  JSON.stringify(n.oneOf[1].items) === JSON.stringify(n.oneOf[0]);

/** An advertised schema as tools/list sends it: without bounds, and without what an agent infers
 * anyway (the type of an enum, a boolean's default of false). */
export function compactSchema(node: any): any {
  if (Array.isArray(node)) return node.map(compactSchema);
  if (!node || typeof node !== 'object') return node;
  if (listOrOne(node)) {
    const { oneOf, ...rest } = node;
    return compactSchema({
      ...oneOf[1],
      ...rest,
      ...(rest.default !== undefined && !Array.isArray(rest.default) ? { default: [rest.default] } : {}),
    });
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (BOUNDS.has(k) || (k === 'type' && node.enum) || (k === 'default' && v === false && node.type === 'boolean'))
      continue;
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, compactSchema(pv)]))
        : compactSchema(v);
  }
  return out;
}

/** The tools/list input schema: compact, without the advanced inputs (the preview lists those). */
export function listedInputSchema(t: ToolSpec, input: InputSchema) {
  const schema = compactSchema(advertisedSchema(input));
  // The context input is shown at run time, and only when there are several contexts to choose from.
  const hidden = new Set([...(t.inputs.advanced ?? []), 'context']);
  return {
    ...schema,
    properties: Object.fromEntries(Object.entries<unknown>(schema.properties).filter(([k]) => !hidden.has(k))),
  };
}

/** One line per advanced input, as the preview lists them: type, allowed values or range, default. */
export function moreOptions(t: ToolSpec, input: InputSchema): Record<string, string> {
  const props = input.properties as Record<string, any>;
  const kind = (p: any): string => {
    if (p.enum) return p.enum.join('|');
    if (p.type === 'array') return `${p.items ? kind(p.items) : 'any'}[]`;
    if (p.type === 'object' && p.additionalProperties && typeof p.additionalProperties === 'object')
      return `map of ${kind(p.additionalProperties)}`;
    const range = p.minimum !== undefined || p.maximum !== undefined ? ` ${p.minimum ?? ''}..${p.maximum ?? ''}` : '';
    return `${Array.isArray(p.type) ? p.type.join('|') : (p.type ?? 'any')}${range}`;
  };
  // An advanced input that is no input is reported by check.ts; here it is left out.
  return Object.fromEntries(
    (t.inputs.advanced ?? [])
      .filter((k) => props[k])
      .map((k) => {
        const p = props[k];
        return [
          k,
          `${kind(p)}${p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''}${p.description ? `; ${p.description}` : ''}`,
        ];
      }),
  );
}

/** A tool's output schema: the envelope, with the tool's data inside. */
export function envelopeSchema(data: Record<string, unknown>) {
  return { type: 'object', properties: { success: { type: 'boolean' }, data }, required: ['success'] };
}

/** What tools/list advertises: the data's top-level fields and their types (tokens are paid on every
 * turn); the full schema stays in the descriptor, and answers conform to both. */
export function advertisedOutputSchema(data: any) {
  const top = (s: any) => (s?.type ? { type: s.type } : {});
  const props = data?.properties
    ? Object.fromEntries(Object.entries<any>(data.properties).map(([k, v]) => [k, top(v)]))
    : undefined;
  return {
    type: 'object',
    properties: { success: { type: 'boolean' }, data: { type: 'object', ...(props ? { properties: props } : {}) } },
  };
}

/** MCP annotations with the spec's defaults left out (destructiveHint true, openWorldHint true;
 * destructive and idempotent hints mean nothing on read-only tools). */
export function advertisedAnnotations(t: ToolSpec) {
  const a = t.annotations;
  return {
    ...(a.readOnly
      ? { readOnlyHint: true }
      : { ...(a.destructive ? {} : { destructiveHint: false }), ...(a.idempotent ? { idempotentHint: true } : {}) }),
    ...(a.openWorld ? {} : { openWorldHint: false }),
  };
}

/** A tool's tools/list entry exactly as the server sends it. */
export function listingEntry(t: ToolSpec, input: InputSchema) {
  // Agents pay for tools/list on every turn, so it carries only what calling a tool needs: no
  // outputSchema (answers still carry structuredContent) and no display title (clients show the
  // name). describe_tools, the docs and the ranker have both.
  return {
    name: t.name,
    description: t.description,
    inputSchema: listedInputSchema(t, input),
    annotations: advertisedAnnotations(t),
  };
}
