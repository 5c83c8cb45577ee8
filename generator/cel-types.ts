// The CEL environment the generator checks expressions in. Every Kubernetes object type comes
// from the catalogue (CRD schemas or declared core fields), every tool input from its JSON Schema,
// and every function from specs/functions.yaml, so a misspelt input, field, step or function
// fails at generation time instead of turning into a runtime error or a silent null.
import { Environment } from '@marcbachmann/cel-js';
import type { Catalogue } from './catalogue.ts';

export const CEL_OPTIONS = { enableOptionalTypes: true, homogeneousAggregateLiterals: false } as const;

const OBJECT_META = {
  name: 'string',
  namespace: 'string',
  uid: 'string',
  resourceVersion: 'string',
  generateName: 'string',
  generation: 'int',
  labels: 'map<string, string>',
  annotations: 'map<string, string>',
  creationTimestamp: 'string',
  deletionTimestamp: 'string',
  ownerReferences: 'list<map<string, dyn>>',
  finalizers: 'list<string>',
};
const LIST_META = { continue: 'string', remainingItemCount: 'int', resourceVersion: 'string' };
/** What `server` offers expressions. The runtime computes only the fields a tool reads (each
 * descriptor's serverFields), so an expensive one (contexts: a kubeconfig walk) costs only its readers. */
export const SERVER_FIELDS = {
  persona: 'string',
  version: 'string',
  controllerNamespace: 'string',
  namespacesRestricted: 'bool',
  allowedNamespaces: 'list<string>',
  context: 'string',
  contexts: 'list<KubeContext>',
  /** The tools this server lists for its persona, how many, and those that need no cluster. */
  tools: 'int',
  offline_tools: 'list<string>',
  uptime_seconds: 'int',
  /** The server's clock at the call (ISO 8601, UTC). */
  time: 'string',
};
export type ServerField = keyof typeof SERVER_FIELDS;

/** The server fields an operation's expressions read (all of them when one takes `server` whole). */
export function serverFieldsRead(operation: unknown): ServerField[] {
  const read = new Set<ServerField>();
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\bserver\b(\s*\.\??\s*([A-Za-z_]\w*))?/g)) {
        if (!m[2]) for (const k of Object.keys(SERVER_FIELDS)) read.add(k as ServerField);
        else if (m[2] in SERVER_FIELDS) read.add(m[2] as ServerField);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(operation);
  return Object.keys(SERVER_FIELDS).filter((k) => read.has(k as ServerField)) as ServerField[];
}
/** A kubeconfig context as server.contexts lists it (allowed: the policy lets callers use it). */
export const KUBE_CONTEXT_FIELDS = {
  name: 'string',
  cluster: 'string',
  server: 'string',
  namespace: 'string',
  user: 'string',
  current: 'bool',
  allowed: 'bool',
};

/** Field names of every registered object type, for "did you mean" suggestions. */
export class TypeRegistry {
  readonly fieldNames = new Set<string>();
  constructor(readonly env: Environment) {}

  /** Registers an object type for a JSON Schema and returns the CEL type name to use. */
  fromJsonSchema(s: any, name: string): string {
    if (!s || typeof s !== 'object') return 'dyn';
    if (s['x-kubernetes-int-or-string'] || (s['x-kubernetes-preserve-unknown-fields'] && !s.properties))
      return s.type === 'object' ? 'map<string, dyn>' : 'dyn';
    const t = Array.isArray(s.type)
      ? s.type.filter((x: string) => x !== 'null').length === 1
        ? s.type.find((x: string) => x !== 'null')
        : undefined
      : s.type;
    switch (t) {
      case 'string':
        return 'string';
      case 'integer':
        return 'int';
      case 'number':
        return 'double';
      case 'boolean':
        return 'bool';
      case 'array':
        return `list<${this.fromJsonSchema(s.items, `${name}.item`)}>`;
      case 'object': {
        if (s.properties) {
          const fields: Record<string, string> = {};
          for (const [k, v] of Object.entries<any>(s.properties))
            fields[k] =
              k === 'metadata' && name.split('.').length === 1 ? 'ObjectMeta' : this.fromJsonSchema(v, `${name}.${k}`);
          return this.object(name, fields);
        }
        if (s.additionalProperties && typeof s.additionalProperties === 'object')
          return `map<string, ${this.fromJsonSchema(s.additionalProperties, `${name}.value`)}>`;
        return 'map<string, dyn>';
      }
      default:
        return 'dyn';
    }
  }

  /** Registers nested field declarations ({a: 'string', b: {c: 'int'}}) as object types. */
  fromFields(fields: Record<string, any>, name: string): string {
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields))
      flat[k] = typeof v === 'string' ? v : this.fromFields(v, `${name}.${k}`);
    return this.object(name, flat);
  }

  object(name: string, fields: Record<string, string>): string {
    for (const k of Object.keys(fields)) this.fieldNames.add(k);
    this.env.registerType(name, { fields });
    return name;
  }
}

/**
 * CEL types for the schemas of an OpenAPI 3 document (an HTTP service of the catalogue): each
 * component schema becomes the object type `<service>.<Name>`; allOf merges the properties of
 * its parts, and oneOf/anyOf offer the fields of every alternative (select them with `.?` when
 * the alternative is not known). Returns the CEL type of any schema of the document.
 */
export function openApiTypes(
  reg: TypeRegistry,
  service: string,
  doc: any,
  known: Record<string, string> = {},
  nameOf = (n: string) => `${service}.${n}`,
): (schema: any, name: string, into?: TypeRegistry) => string {
  const schemas = doc.components?.schemas ?? {};
  // Schemas already typed elsewhere (the hand-declared ObjectMeta) keep that type.
  const named = new Map<string, string>(Object.entries(known));
  const pending = new Set<string>();
  const refName = (ref: string) => ref.split('/').pop()!;
  /** Every property an object schema declares, through $ref, allOf, oneOf and anyOf. */
  const collect = (s: any, into: Record<string, any>, seen: Set<string>) => {
    if (!s || typeof s !== 'object') return;
    if (s.$ref) {
      const n = refName(s.$ref);
      if (!seen.has(n)) {
        seen.add(n);
        collect(schemas[n], into, seen);
      }
      return;
    }
    for (const part of [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])]) collect(part, into, seen);
    for (const [k, v] of Object.entries<any>(s.properties ?? {})) into[k] ??= v;
  };
  const primitive = (s: any): string | undefined => {
    if (s.$ref) return undefined;
    if (s.allOf || s.oneOf || s.anyOf) return undefined;
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
        return 'int';
      case 'number':
        return 'double';
      case 'boolean':
        return 'bool';
      default:
        return undefined;
    }
  };
  const typeOf = (s: any, name: string, into: TypeRegistry): string => {
    if (!s || typeof s !== 'object') return 'dyn';
    if (s.$ref) {
      const n = refName(s.$ref);
      const done = named.get(n);
      if (done) return done;
      if (pending.has(n) || !schemas[n]) return 'map<string, dyn>';
      pending.add(n);
      const t = typeOf(schemas[n], nameOf(n), reg);
      pending.delete(n);
      named.set(n, t);
      return t;
    }
    const p = primitive(s);
    if (p) return p;
    if (s.type === 'array') return `list<${typeOf(s.items, `${name}.item`, into)}>`;
    const props: Record<string, any> = {};
    collect(s, props, new Set());
    if (Object.keys(props).length) {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(props)) fields[k] = typeOf(v, `${name}.${k}`, into);
      return into.object(name, fields);
    }
    // A $ref-only allOf of a primitive (an enum schema), or a map.
    const parts = [...(s.allOf ?? []), ...(s.oneOf ?? [])];
    if (parts.length === 1) return typeOf(parts[0], name, into);
    if (s.additionalProperties && typeof s.additionalProperties === 'object')
      return `map<string, ${typeOf(s.additionalProperties, `${name}.value`, into)}>`;
    return s.type === 'object' || !s.type ? 'map<string, dyn>' : 'dyn';
  };
  for (const n of Object.keys(schemas)) typeOf({ $ref: `#/components/schemas/${n}` }, n, reg);
  return (schema, name, into = reg) => typeOf(schema, name, into);
}

export interface FunctionDecl {
  name: string;
  signature: string;
  description: string;
  celValues?: boolean;
}

/** The shared base: object types of the catalogue and the function library. Clone per tool. */
export function baseEnvironment(
  catalogue: Catalogue,
  functions: FunctionDecl[],
  calls: Array<{ name: string; returns: Record<string, any> }> = [],
) {
  const env = new Environment(CEL_OPTIONS);
  const reg = new TypeRegistry(env);
  reg.object('ObjectMeta', OBJECT_META);
  reg.object('ListMeta', LIST_META);
  reg.object('KubeContext', KUBE_CONTEXT_FIELDS);
  reg.object('ServerInfo', SERVER_FIELDS);
  reg.object('PollInfo', { timed_out: 'bool', polls: 'int', waited_seconds: 'double' });
  // Helper types referenced by declared fields (Container, CrdVersion...) come first.
  const kinds = new Set(Object.values(catalogue.resources).map((r) => r.kind));
  for (const [name, fields] of Object.entries(catalogue.fields)) if (!kinds.has(name)) reg.fromFields(fields, name);
  const typeOf: Record<string, string> = {};
  // Core kinds from the vendored Kubernetes OpenAPI types (specs/schema/kubernetes.openapi.json):
  // each kind's type is named for the kind, the types it reaches k8s.<Model>.
  const kube = catalogue.kubernetes;
  const kindOf = new Map(Object.entries<string>(kube?.['x-kinds'] ?? {}).map(([kind, model]) => [model, kind]));
  const kubeType = kube
    ? openApiTypes(
        reg,
        'k8s',
        kube,
        { V1ObjectMeta: 'ObjectMeta', V1ListMeta: 'ListMeta' },
        (n) => kindOf.get(n) ?? `k8s.${n}`,
      )
    : undefined;
  for (const [plural, r] of Object.entries(catalogue.resources)) {
    const model = kube?.['x-kinds']?.[r.kind];
    if (r.openAPIV3Schema) typeOf[plural] = reg.fromJsonSchema(r.openAPIV3Schema, r.kind);
    else if (model && kubeType) typeOf[plural] = kubeType({ $ref: `#/components/schemas/${model}` }, r.kind);
    else
      typeOf[plural] = reg.fromFields(
        { apiVersion: 'string', kind: 'string', metadata: 'ObjectMeta', ...(catalogue.fields[r.kind] ?? {}) },
        r.kind,
      );
    reg.object(`${r.kind}List`, {
      apiVersion: 'string',
      kind: 'string',
      metadata: 'ListMeta',
      items: `list<${r.kind}>`,
    });
  }
  for (const f of functions) env.registerFunction(f.signature, () => null);
  // The answer type of each call step's function, named calls.<function>.
  const callTypes: Record<string, string> = Object.fromEntries(
    calls.map((c) => [c.name, reg.fromJsonSchema(c.returns, `calls.${c.name}`)]),
  );
  const serviceTypes: Record<string, ReturnType<typeof openApiTypes>> = {};
  for (const [name, s] of Object.entries(catalogue.services ?? {}))
    if (s.doc) serviceTypes[name] = openApiTypes(reg, name, s.doc);
  return { env, reg, typeOf, serviceTypes, callTypes };
}

/** A CEL type name as the JSON Schema advertised in outputSchema (coarse: objects stay open). */
export function celTypeToJsonSchema(type: string): Record<string, unknown> {
  const t = type.trim();
  const inner = (s: string) => s.slice(s.indexOf('<') + 1, -1);
  if (t.startsWith('optional<')) return celTypeToJsonSchema(inner(t));
  if (t.startsWith('list<')) {
    const items = celTypeToJsonSchema(inner(t));
    return Object.keys(items).length ? { type: 'array', items } : { type: 'array' };
  }
  if (t.startsWith('map<')) return { type: 'object' };
  switch (t) {
    case 'string':
      return { type: 'string' };
    case 'int':
    case 'uint':
      return { type: 'integer' };
    case 'double':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'null':
      return { type: 'null' };
    case 'dyn':
      return {};
    default:
      return /^[A-Z]/.test(t) ? { type: 'object' } : {};
  }
}

/** Is a value of CEL type `got` usable where `want` is expected? dyn fits everything. */
export function fits(got: string, want: string): boolean {
  if (got === 'dyn' || want === 'dyn' || got === want) return true;
  // An optional value in a step slot means "leave the option out when absent".
  if (got.startsWith('optional<')) return fits(got.slice(9, -1), want);
  const base = (s: string) => s.replace(/<.*$/, '');
  // Object types are named: a kind (TrainJob) or a dotted path (calls.estimate_memory, k8s.V1PodSpec).
  const objectType = /^[A-Z]/.test(got) || /^[a-z]\w*\.[\w.]+$/.test(got);
  if (want === 'map' || want === 'list') return base(got) === want || (want === 'map' && objectType);
  if (want === 'int' && got === 'uint') return true;
  if (want === 'number') return ['int', 'uint', 'double'].includes(got);
  return false;
}
