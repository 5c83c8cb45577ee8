// Structural-schema handling for custom resources, in the order the API server applies it:
// prune unknown fields -> apply defaults -> validate the OpenAPI schema (Ajv) -> evaluate the
// x-kubernetes-validations CEL rules (with oldSelf on updates).
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as celParse } from '@marcbachmann/cel-js';
import type { StatusCause } from './errors.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const addFormats = (addFormatsModule as any).default ?? addFormatsModule;

type Schema = Record<string, any>;

let ajvInstance: any;
function ajv() {
  if (ajvInstance) return ajvInstance;
  ajvInstance = new Ajv({ strict: false, useDefaults: true, allErrors: true, validateFormats: true });
  addFormats(ajvInstance);
  for (const f of ['int32', 'int64', 'double', 'float', 'byte', 'quantity']) ajvInstance.addFormat(f, true);
  return ajvInstance;
}

const pathOf = (p: string) =>
  p
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : s))
    .join('.')
    .replace(/\.\[/g, '[');
const join = (base: string, key: string | number) =>
  typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key;

function show(v: unknown) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v !== null && typeof v === 'object') return '"object"';
  return String(v);
}

/** A Status cause as the API server words a schema violation, from an Ajv error. */
export function causeFromAjv(e: ErrorObject, root: unknown): StatusCause {
  let field = pathOf(e.instancePath);
  const value = e.instancePath
    .split('/')
    .slice(1)
    .reduce((v: any, k) => (v == null ? v : v[k]), root);
  switch (e.keyword) {
    case 'required': {
      field = join(field, (e.params as any).missingProperty);
      return { reason: 'FieldValueRequired', field, message: 'Required value' };
    }
    case 'enum':
      return {
        reason: 'FieldValueNotSupported',
        field,
        message: `Unsupported value: ${show(value)}: supported values: ${(e.params as any).allowedValues.map((x: unknown) => JSON.stringify(x)).join(', ')}`,
      };
    case 'type':
      return {
        reason: 'FieldValueTypeInvalid',
        field,
        message: `Invalid value: ${show(value)}: ${field} in body must be of type ${(e.params as any).type}: ${show(value)}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words: Record<string, string> = {
        minimum: 'greater than or equal to',
        maximum: 'less than or equal to',
        exclusiveMinimum: 'greater than',
        exclusiveMaximum: 'less than',
      };
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${show(value)}: ${field} in body should be ${words[e.keyword]} ${(e.params as any).limit}`,
      };
    }
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return {
        reason: 'FieldValueTooLong',
        field,
        message: `Too long: may not be more than ${(e.params as any).limit}`,
      };
    case 'minLength':
    case 'minItems':
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${show(value)}: ${field} in body should be at least ${(e.params as any).limit} ${e.keyword === 'minLength' ? 'chars long' : 'items'}`,
      };
    case 'pattern':
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${show(value)}: ${field} in body should match '${(e.params as any).pattern}'`,
      };
    default:
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${e.message}` };
  }
}

const celCache = new Map<string, (ctx: object) => unknown>();
function compileRule(rule: string) {
  let fn = celCache.get(rule);
  if (!fn) celCache.set(rule, (fn = celParse(rule) as (ctx: object) => unknown));
  return fn;
}

/** A compiled CRD version: prune, default, validate in one call. */
export class CrdSchema {
  private validator?: ValidateFunction;
  constructor(readonly schema: Schema) {}

  /** Removes unknown fields in place and returns their paths (for Warning headers or Strict errors). */
  prune(obj: Record<string, any>): string[] {
    const unknown: string[] = [];
    const props = this.schema.properties ?? {};
    for (const key of Object.keys(obj)) {
      if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
      if (!(key in props)) {
        unknown.push(key);
        delete obj[key];
        continue;
      }
      pruneNode(props[key], obj[key], key, unknown);
    }
    return unknown;
  }

  /** Applies defaults in place and returns schema and CEL violations. */
  validate(obj: Record<string, any>, old?: Record<string, any>): StatusCause[] {
    this.validator ??= ajv().compile(stripForAjv(this.schema));
    const causes: StatusCause[] = [];
    if (!this.validator!(obj)) {
      const seen = new Set<string>();
      for (const e of this.validator!.errors ?? []) {
        if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
        const c = causeFromAjv(e, obj);
        const k = `${c.field}|${c.message}`;
        if (!seen.has(k)) {
          seen.add(k);
          causes.push(c);
        }
      }
    }
    if (causes.length === 0) celWalk(this.schema, obj, old, '', causes, true);
    return causes;
  }
}

/** Ajv must not see metadata's schema (the API server owns metadata) or the x- keywords. */
function stripForAjv(schema: Schema): Schema {
  const copy = structuredClone(schema);
  if (copy.properties?.metadata) copy.properties.metadata = { type: 'object' };
  return copy;
}

function pruneNode(schema: Schema | undefined, value: any, path: string, unknown: string[]) {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => pruneNode(schema.items, v, `${path}[${i}]`, unknown));
    return;
  }
  if (schema.properties) {
    for (const key of Object.keys(value)) {
      const sub = schema.properties[key];
      if (sub) pruneNode(sub, value[key], join(path, key), unknown);
      else if (!schema['x-kubernetes-preserve-unknown-fields'] && !schema.additionalProperties) {
        unknown.push(join(path, key));
        delete value[key];
      }
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(value)) pruneNode(schema.additionalProperties, value[key], join(path, key), unknown);
  }
}

function celWalk(
  schema: Schema | undefined,
  value: any,
  old: any,
  path: string,
  causes: StatusCause[],
  isRoot = false,
) {
  if (!schema || value === undefined) return;
  for (const v of schema['x-kubernetes-validations'] ?? []) {
    const usesOld = /\boldSelf\b/.test(v.rule);
    if (usesOld && old === undefined) continue; // transition rules run only on updates
    let ok: unknown;
    try {
      ok = compileRule(v.rule)({ self: value, oldSelf: old });
    } catch {
      ok = false;
    }
    if (ok !== true) {
      const field = v.fieldPath ? join(path, String(v.fieldPath).replace(/^\./, '')) : path || '<root>';
      const shown = isRoot ? '"object"' : show(value);
      causes.push({
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${shown}: ${v.message ?? `failed rule: ${v.rule}`}`,
      });
    }
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const keys: string[] | undefined =
      schema['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] : undefined;
    value.forEach((item, i) => {
      // Only items of map-type lists correlate with their old selves (Kubernetes does the same).
      const prev =
        keys && Array.isArray(old) ? old.find((o: any) => keys.every((k) => o?.[k] === item?.[k])) : undefined;
      celWalk(schema.items, item, prev, `${path}[${i}]`, causes);
    });
    return;
  }
  if (schema.properties) {
    for (const [k, sub] of Object.entries<Schema>(schema.properties)) {
      if (isRoot && k === 'metadata') continue;
      celWalk(sub, value[k], old?.[k], join(path, k), causes);
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const k of Object.keys(value)) celWalk(schema.additionalProperties, value[k], old?.[k], join(path, k), causes);
  }
}
