// Renders a Helm chart's templates the way `helm template` does, for the subset of Go templates
// and Sprig functions the chart in generator/templates/helm uses: actions with trim markers,
// comments, define/include, if/else if/else, range (lists and maps, with $k, $v), with, variables,
// parenthesised pipelines, and the functions listed in FUNCS. It renders the plain manifests the
// generator commits and lets tests render the chart with other values where helm is not installed.
// Anything outside the subset is an error, so the chart cannot drift into what this cannot check.
import { stringify } from 'yaml';

type Node =
  | { t: 'text'; v: string }
  | { t: 'out'; p: string }
  | { t: 'if'; branches: Array<{ cond?: string; body: Node[] }> }
  | { t: 'range'; vars: string[]; p: string; body: Node[]; else: Node[] }
  | { t: 'with'; p: string; body: Node[]; else: Node[] }
  | { t: 'set'; name: string; p: string };

/** Splits a template into text and actions, applying the {{- and -}} trim markers. */
function lex(src: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { out.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error('unclosed {{');
    let body = src.slice(open + 2, close);
    if (body.startsWith('-')) { text = text.replace(/\s+$/, ''); body = body.slice(1); }
    let end = close + 2;
    if (body.endsWith('-')) { body = body.slice(0, -1); const m = /^\s*/.exec(src.slice(end))!; end += m[0].length; }
    if (text) out.push({ text });
    body = body.trim();
    if (!body.startsWith('/*')) out.push({ action: body });
    i = end;
  }
  return out;
}

function parse(tokens: Array<{ text?: string; action?: string }>, defines: Map<string, Node[]>): Node[] {
  let pos = 0;
  const block = (stops: RegExp): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tk = tokens[pos++];
      if (tk.text !== undefined) { nodes.push({ t: 'text', v: tk.text }); continue; }
      const a = tk.action!;
      if (stops.test(a)) return { nodes, stop: a };
      let m: RegExpExecArray | null;
      if ((m = /^if\s+(.+)$/s.exec(a))) {
        const branches: Array<{ cond?: string; body: Node[] }> = [];
        let cond: string | undefined = m[1];
        for (;;) {
          const r = block(/^(else( if .+)?|end)$/s);
          branches.push({ cond, body: r.nodes });
          if (r.stop === 'end') break;
          cond = r.stop.startsWith('else if') ? r.stop.slice(8) : undefined;
          if (cond === undefined) { branches.push({ body: block(/^end$/).nodes }); break; }
        }
        nodes.push({ t: 'if', branches });
      } else if ((m = /^(range|with)\s+(?:(\$\w+)(?:\s*,\s*(\$\w+))?\s*:=\s*)?(.+)$/s.exec(a))) {
        const r = block(/^(else|end)$/);
        const els = r.stop === 'else' ? block(/^end$/).nodes : [];
        if (m[1] === 'range') nodes.push({ t: 'range', vars: [m[2], m[3]].filter(Boolean), p: m[4], body: r.nodes, else: els });
        else nodes.push({ t: 'with', p: m[4], body: r.nodes, else: els });
      } else if ((m = /^define\s+"([^"]+)"$/.exec(a))) {
        defines.set(m[1], block(/^end$/).nodes);
      } else if ((m = /^(\$\w+)\s*:?=\s*(.+)$/s.exec(a))) {
        nodes.push({ t: 'set', name: m[1], p: m[2] });
      } else if (/^(end|else)\b/.test(a)) {
        throw new Error(`unexpected {{ ${a} }}`);
      } else nodes.push({ t: 'out', p: a });
    }
    if (stops.source !== '^$') throw new Error('missing {{ end }}');
    return { nodes, stop: '' };
  };
  return block(/^$/).nodes;
}

/** Tokens of a pipeline: strings, parenthesised groups, pipes and words. */
function words(p: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') { let j = i + 1; while (p[j] !== '"') { if (p[j] === '\\') j++; j++; if (j > p.length) throw new Error(`unclosed string in ${p}`); } out.push(p.slice(i, j + 1)); i = j + 1; continue; }
    if (c === '(') { let d = 0, j = i; do { if (p[j] === '(') d++; if (p[j] === ')') d--; j++; } while (d > 0 && j < p.length); out.push(p.slice(i, j)); i = j; continue; }
    if (c === '|') { out.push('|'); i++; continue; }
    let j = i; while (j < p.length && !/[\s|()]/.test(p[j])) j++;
    out.push(p.slice(i, j)); i = j;
  }
  return out;
}

const truthy = (v: unknown) => !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length));
const indentBy = (n: number, s: string) => s.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');
const toYaml = (v: unknown) => (v === undefined || v === null ? '' : stringify(v, { lineWidth: 0 }).replace(/\n$/, ''));

interface Scope { dot: unknown; root: unknown; vars: Map<string, unknown> }

export class ChartRenderer {
  private defines = new Map<string, Node[]>();
  private readonly FUNCS: Record<string, (...a: any[]) => unknown> = {
    include: (name: string, dot: unknown) => { const d = this.defines.get(name); if (!d) throw new Error(`no template "${name}"`); return this.run(d, { dot, root: dot, vars: new Map([['$', dot]]) }); },
    toYaml, nindent: (n: number, s: string) => `\n${indentBy(n, String(s))}`, indent: (n: number, s: string) => indentBy(n, String(s)),
    quote: (v: unknown) => JSON.stringify(v === undefined || v === null ? '' : String(v)), default: (d: unknown, v: unknown) => (truthy(v) ? v : d),
    required: (msg: string, v: unknown) => { if (!truthy(v)) throw new Error(msg); return v; },
    eq: (a: unknown, b: unknown) => a === b, ne: (a: unknown, b: unknown) => a !== b, not: (v: unknown) => !truthy(v),
    and: (...a: unknown[]) => a.reduce((x, y) => (truthy(x) ? y : x)), or: (...a: unknown[]) => a.reduce((x, y) => (truthy(x) ? x : y)),
    b64enc: (s: string) => Buffer.from(String(s)).toString('base64'), toString: (v: unknown) => String(v), lower: (s: string) => String(s).toLowerCase(),
    trunc: (n: number, s: string) => String(s).slice(0, n), trimSuffix: (suf: string, s: string) => (String(s).endsWith(suf) ? String(s).slice(0, -suf.length) : String(s)),
    printf: (f: string, ...a: unknown[]) => { let i = 0; return f.replace(/%[sdv]/g, () => String(a[i++])); },
    join: (sep: string, l: unknown[]) => (l ?? []).join(sep), list: (...a: unknown[]) => a, empty: (v: unknown) => !truthy(v),
  };

  /** Renders every template of a chart: `templates` maps file names to their text (helpers first, as helm loads `_*.tpl`). */
  render(templates: Record<string, string>, values: unknown, release = { Name: 'kubeflow-mcp', Namespace: 'kubeflow-mcp' }, chart: Record<string, unknown> = {}): Record<string, string> {
    const root = { Values: values, Release: { ...release, Service: 'Helm' }, Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion } };
    const parsed = Object.entries(templates).map(([name, text]) => {
      try { return [name, parse(lex(text), this.defines)] as const; } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
    });
    const out: Record<string, string> = {};
    for (const [name, nodes] of parsed) {
      if (name.startsWith('_')) continue;
      try { out[name] = this.run(nodes, { dot: root, root, vars: new Map([['$', root]]) }); } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
    }
    return out;
  }

  private run(nodes: Node[], s: Scope): string {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') out += n.v;
      else if (n.t === 'out') { const v = this.pipe(n.p, s); out += v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); }
      else if (n.t === 'set') s.vars.set(n.name, this.pipe(n.p, s));
      else if (n.t === 'if') { const b = n.branches.find((x) => x.cond === undefined || truthy(this.pipe(x.cond, s))); if (b) out += this.run(b.body, s); }
      else if (n.t === 'with') { const v = this.pipe(n.p, s); out += truthy(v) ? this.run(n.body, { ...s, dot: v }) : this.run(n.else, s); }
      else {
        const v = this.pipe(n.p, s);
        const entries: Array<[unknown, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as any)[k]]) : [];
        if (!entries.length) { out += this.run(n.else, s); continue; }
        for (const [k, x] of entries) {
          const vars = new Map(s.vars);
          if (n.vars.length === 2) { vars.set(n.vars[0], k); vars.set(n.vars[1], x); } else if (n.vars.length === 1) vars.set(n.vars[0], x);
          out += this.run(n.body, { ...s, dot: x, vars });
        }
      }
    }
    return out;
  }

  /** A pipeline: each command's result is the last argument of the next. */
  private pipe(p: string, s: Scope): unknown {
    const ws = words(p);
    let acc: unknown, first = true;
    let cmd: string[] = [];
    const flush = () => { acc = this.command(cmd, s, first ? undefined : [acc]); first = false; cmd = []; };
    for (const w of ws) { if (w === '|') flush(); else cmd.push(w); }
    flush();
    return acc;
  }

  private command(c: string[], s: Scope, piped?: unknown[]): unknown {
    if (!c.length) throw new Error('empty command');
    const [head, ...rest] = c;
    const fn = this.FUNCS[head];
    if (fn) return fn(...rest.map((a) => this.value(a, s)), ...(piped ?? []));
    if (rest.length || piped) throw new Error(`"${head}" is not a function this renderer knows`);
    return this.value(head, s);
  }

  private value(w: string, s: Scope): unknown {
    if (w.startsWith('(')) return this.pipe(w.slice(1, -1), s);
    if (w.startsWith('"')) return JSON.parse(w);
    if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
    if (w === 'true' || w === 'false') return w === 'true';
    if (w === 'nil') return undefined;
    const path = (base: unknown, rest: string) => rest.split('.').filter(Boolean).reduce<any>((o, k) => (o == null ? undefined : o[k]), base);
    if (w === '.') return s.dot;
    if (w.startsWith('.')) return path(s.dot, w);
    if (w.startsWith('$')) {
      const [name, ...rest] = w.split('.');
      if (!s.vars.has(name)) throw new Error(`undefined variable ${name}`);
      return path(s.vars.get(name), rest.join('.'));
    }
    throw new Error(`"${w}" is not a value or function this renderer knows`);
  }
}
