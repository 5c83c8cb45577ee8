// Label selectors (equality- and set-based) and field selectors, parsed once per request, and the
// API server's rules for label keys and values.
import { badRequest, type StatusCause } from './errors.ts';
import type { KObject } from './store.ts';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label or annotation key is not a qualified name ("prefix/name"), or undefined. */
export function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined,
    name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  if (!name) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function valueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value && !NAME_PART.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}

/** The 422 causes for an object's labels (keys and values) or annotations (keys). */
export function labelCauses(map: unknown, field: string, values: boolean): StatusCause[] {
  if (map === undefined || map === null) return [];
  if (typeof map !== 'object' || Array.isArray(map))
    return [{ reason: 'FieldValueInvalid', field, message: 'Invalid value: must be a map of strings' }];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(map)) {
    const kp = keyProblem(k);
    if (kp) out.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${k}": ${kp}` });
    if (typeof v !== 'string')
      out.push({ reason: 'FieldValueInvalid', field: `${field}[${k}]`, message: 'Invalid value: must be a string' });
    else if (values) {
      const vp = valueProblem(v);
      if (vp) out.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${v}": ${vp}` });
    }
  }
  return out;
}

/** A label of the object's own (never one inherited from Object.prototype, like "constructor"). */
const own = (l: Record<string, string>, key: string) => (Object.hasOwn(l, key) ? l[key] : undefined);

type Pred = (labels: Record<string, string>) => boolean;

/** Split on commas that are not inside parentheses: "a in (x, y),b" -> ["a in (x, y)", "b"]. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0,
    cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((t) => t.trim()).filter(Boolean);
}

export function parseLabelSelector(raw: string | null | undefined): Pred {
  if (!raw) return () => true;
  const checked = (term: string, key: string, values: string[]) => {
    const kp = keyProblem(key);
    if (kp) throw badRequest(`unable to parse requirement: values[0][${key}]: Invalid value: "${key}": ${kp}`);
    for (const v of values) {
      const vp = valueProblem(v);
      if (vp) throw badRequest(`unable to parse requirement: values[0][${key}]: Invalid value: "${v}": ${vp}`);
    }
    return term;
  };
  const preds: Pred[] = splitTerms(raw).map((term) => {
    let m = term.match(/^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/);
    if (m) {
      const [, key, op, vals] = m;
      const list = vals
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      checked(term, key, list);
      const set = new Set(list);
      return op === 'in'
        ? (l) => own(l, key) !== undefined && set.has(own(l, key)!)
        : (l) => own(l, key) === undefined || !set.has(own(l, key)!);
    }
    m = term.match(/^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/);
    if (m) {
      const [, key, op, val] = m;
      checked(term, key, [val]);
      return op === '!=' ? (l) => own(l, key) !== val : (l) => own(l, key) === val;
    }
    m = term.match(/^(!?)([^\s!=(),]+)$/);
    if (m) {
      const key = m[2];
      checked(term, key, []);
      return m[1] ? (l) => own(l, key) === undefined : (l) => own(l, key) !== undefined;
    }
    throw badRequest(`unable to parse requirement: invalid label selector: "${term}"`);
  });
  return (labels) => preds.every((p) => p(labels ?? {}));
}

const get = (o: any, path: string) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);

export function parseFieldSelector(raw: string | null | undefined): (o: KObject) => boolean {
  if (!raw) return () => true;
  const preds = raw
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const m = term.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw badRequest(`invalid field selector: "${term}"`);
      const [, path, op, val] = m;
      return (o: KObject) => {
        const v = get(o, path);
        const s = v == null ? '' : String(v);
        return op === '!=' ? s !== val : s === val;
      };
    });
  return (o) => preds.every((p) => p(o));
}
