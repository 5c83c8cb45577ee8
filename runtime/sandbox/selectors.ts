// Label selectors (equality- and set-based) and field selectors, parsed once per request.
import { badRequest } from './errors.ts';
import type { KObject } from './store.ts';

type Pred = (labels: Record<string, string>) => boolean;

/** Split on commas that are not inside parentheses: "a in (x, y),b" -> ["a in (x, y)", "b"]. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((t) => t.trim()).filter(Boolean);
}

export function parseLabelSelector(raw: string | null | undefined): Pred {
  if (!raw) return () => true;
  const preds: Pred[] = splitTerms(raw).map((term) => {
    let m = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/);
    if (m) {
      const [, key, op, vals] = m;
      const set = new Set(vals.split(',').map((v) => v.trim()).filter(Boolean));
      return op === 'in' ? (l) => key in l && set.has(l[key]) : (l) => !(key in l) || !set.has(l[key]);
    }
    m = term.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/);
    if (m) {
      const [, key, op, val] = m;
      return op === '!=' ? (l) => l[key] !== val : (l) => l[key] === val;
    }
    m = term.match(/^(!?)([\w./-]+)$/);
    if (m) return m[1] ? (l) => !(m![2] in l) : (l) => m![2] in l;
    throw badRequest(`unable to parse requirement: invalid label selector: "${term}"`);
  });
  return (labels) => preds.every((p) => p(labels ?? {}));
}

const get = (o: any, path: string) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);

export function parseFieldSelector(raw: string | null | undefined): (o: KObject) => boolean {
  if (!raw) return () => true;
  const preds = raw.split(',').filter(Boolean).map((term) => {
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
