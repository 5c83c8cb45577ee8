// How the chat shows what happens: a tool call as a one-line call with its arguments (secrets
// masked), a result as a short line or two, a preview as readable YAML with its warnings, and the
// progress of a wait as a bar. Plain ASCII, colour only on a terminal without NO_COLOR.
import { Document, isScalar, visit } from 'yaml';

export interface Paint {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
}

export function paint(enabled: boolean): Paint {
  const c = (code: number) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { dim: c(2), bold: c(1), red: c(31), green: c(32), yellow: c(33), cyan: c(36), magenta: c(35) };
}

const SECRET_KEY = /token|password|secret|api_?key|credential|private/i;

/** Arguments with secret-looking values masked, for display and transcripts. */
export function maskSecrets(v: unknown, key = ''): unknown {
  if (typeof v === 'string') return SECRET_KEY.test(key) && v ? '***' : v;
  if (Array.isArray(v)) return v.map((x) => maskSecrets(x, key));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x, k)]));
  return v;
}

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** `name(a="x", b=2)`, each value clipped, the whole line bounded. */
export function formatCall(name: string, args: Record<string, unknown>, width = 200): string {
  if (name === 'execute_tool' && typeof args.name === 'string' && isObj(args.arguments))
    return clip(`execute_tool: ${formatCall(args.name, args.arguments, width)}`, width);
  const parts = Object.entries(maskSecrets(args) as Record<string, unknown>).map(([k, v]) => {
    const s =
      typeof v === 'string'
        ? JSON.stringify(clip(v.includes('\n') ? `${v.split('\n').length} lines: ${v.split('\n')[0]}` : v, 60))
        : clip(JSON.stringify(v), 60);
    return `${k}=${s}`;
  });
  return clip(`${name}(${parts.join(', ')})`, width);
}

export function isPreview(envelope: any): boolean {
  return isObj(envelope) && envelope.status === 'preview';
}

/** A short rendering of a tool's answer: one headline, and a few indented lines where they help. */
export function summarize(envelope: any, rawText: string, isError: boolean): { ok: boolean; lines: string[] } {
  if (!isObj(envelope)) return { ok: !isError, lines: [clip(rawText.replace(/\s+/g, ' '), 200) || '(empty answer)'] };
  if (envelope.success === false || isError) {
    const lines = [
      `${envelope.error_code ?? 'error'}: ${clip(String(envelope.error ?? envelope.message ?? rawText), 240)}`,
    ];
    if (envelope.details?.status || envelope.details?.reason)
      lines.push(clip([envelope.details.status, envelope.details.reason].filter(Boolean).join(': '), 200));
    if (typeof envelope.hint === 'string') lines.push(`hint: ${clip(envelope.hint, 200)}`);
    return { ok: false, lines };
  }
  if (envelope.status === 'declined') return { ok: false, lines: [String(envelope.message)] };
  const d = isObj(envelope.data) ? envelope.data : envelope;
  const lines: string[] = [];
  // pre_flight's shape: compatibility, GPUs, a recommendation.
  if (isObj(d.compatibility) && isObj(d.cluster)) {
    const c = d.cluster;
    lines.push(
      `${d.compatibility.compatible ? 'cluster compatible' : 'cluster NOT compatible'}; ${c.gpu_free ?? 0} of ${c.gpu_total ?? 0} ${c.gpu_resource ?? 'GPUs'} free on ${c.node_count ?? '?'} nodes`,
    );
    if (isObj(d.estimate))
      lines.push(
        `${d.estimate.resolved_model ?? d.estimate.model}: ${d.estimate.training_type ?? ''} needs about ${d.estimate.gpu_memory_required ?? '?'}; ${d.estimate.recommendation ?? ''}`.trim(),
      );
    const ts = d.tool_selection;
    if (isObj(ts)) lines.push(`recommended: ${ts.recommended}${ts.runtime ? ` on ${ts.runtime}` : ''}`);
    for (const b of d.compatibility.blockers ?? [])
      lines.push(`blocker: ${clip(typeof b === 'string' ? b : JSON.stringify(b), 200)}`);
    return { ok: true, lines };
  }
  if (typeof d.message === 'string') lines.push(d.message);
  else if (typeof d.status === 'string')
    lines.push(
      [d.job ?? d.name ?? d.job_name, d.status].filter(Boolean).join(': ') +
        (d.elapsed_seconds !== undefined ? ` after ${d.elapsed_seconds} s` : ''),
    );
  for (const [k, v] of Object.entries(d)) {
    if (!Array.isArray(v) || !v.length || k === 'warnings' || k === 'next_steps') continue;
    const names = v
      .map((x) => (isObj(x) ? (x.name ?? x.job_name ?? x.id) : typeof x === 'string' ? x : undefined))
      .filter(Boolean);
    lines.push(`${v.length} ${k}${names.length ? `: ${clip(names.join(', '), 200)}` : ''}`);
  }
  if (typeof d.logs === 'string') {
    const all = d.logs.split('\n').filter((l: string) => l.trim());
    lines.push(`${all.length} log lines${all.length > 4 ? ', the last 4' : ''}:`);
    for (const l of all.slice(-4)) lines.push(`  ${clip(l, 150)}`);
  }
  if (!lines.length) {
    const scalars = Object.entries(d)
      .filter(([, v]) => v === null || typeof v !== 'object')
      .slice(0, 6)
      .map(([k, v]) => `${k}=${clip(String(v), 40)}`);
    const nested = Object.entries(d)
      .filter(([, v]) => v && typeof v === 'object')
      .map(([k]) => k);
    lines.push([...scalars, ...(nested.length ? [`(${nested.slice(0, 6).join(', ')})`] : [])].join(', ') || 'done');
  }
  for (const w of (Array.isArray(d.warnings) ? d.warnings : []).slice(0, 3))
    lines.push(`warning: ${clip(String(w), 200)}`);
  return { ok: true, lines };
}

/** Drops what a person need not read in a preview: the kind (in the heading) and the server's bookkeeping annotations. */
function forReading(obj: any): any {
  if (!isObj(obj)) return obj;
  const { apiVersion, kind, metadata, ...rest } = obj;
  if (!isObj(metadata)) return rest;
  const { annotations, managedFields, name, namespace, ...meta } = metadata;
  return { ...rest, ...(Object.keys(meta).length ? { metadata: meta } : {}) };
}

/** YAML with short lists and small flat maps on one line each. */
export function compactYaml(value: unknown): string[] {
  const doc = new Document(value);
  visit(doc, {
    Seq(_k, node) {
      if (
        node.items.every((i) => isScalar(i)) &&
        node.items.reduce((n, i) => n + String((i as any).value).length + 2, 0) < 90
      )
        node.flow = true;
    },
    Map(_k, node) {
      if (node !== doc.contents && node.items.length <= 4 && node.items.every((p) => isScalar(p.value)))
        node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 120 }).trimEnd().split('\n');
}

/** A sentence addressed to the model (how to confirm) is not for the person. */
const forPerson = (msg: string) =>
  msg
    .split(/(?<=[.;])\s+/)
    .filter((s) => !/confirmed=true/.test(s))
    .join(' ')
    .replace(/;$/, '.');

/** A preview as a person reads it: the message, each object as YAML (bounded), warnings, the dry run. */
export function renderPreview(envelope: any, p: Paint, maxLines = 40): string[] {
  const out: string[] = [];
  if (envelope.message) out.push(p.bold(forPerson(String(envelope.message)) || 'Preview'));
  const config = isObj(envelope.config) ? envelope.config : {};
  const warnings: string[] = [
    ...(Array.isArray(config.warnings) ? config.warnings : []),
    ...(Array.isArray(envelope.warnings) ? envelope.warnings : []),
  ];
  for (const [key, value] of Object.entries(config)) {
    if (key === 'warnings' || key === 'dry_run') continue;
    if (isObj(value) && typeof value.kind === 'string' && isObj(value.metadata)) {
      out.push(
        p.cyan(
          `${value.kind} ${value.metadata.namespace ? `${value.metadata.namespace}/` : ''}${value.metadata.name ?? ''}:`,
        ),
      );
      const yaml = compactYaml(maskSecrets(forReading(value)));
      out.push(...yaml.slice(0, maxLines).map((l) => `  ${l}`));
      if (yaml.length > maxLines) out.push(p.dim(`  ... ${yaml.length - maxLines} more lines`));
    } else if (key === 'runtime' && isObj(value)) {
      out.push(
        `${p.cyan('runtime:')} ${value.name} (${[value.framework, value.trainer_type, value.device_count !== undefined ? `${value.device_count} ${value.device ?? 'device'}(s) per node` : ''].filter(Boolean).join(', ')})`,
      );
    } else if (isObj(value) || Array.isArray(value)) {
      const yaml = compactYaml({ [key]: maskSecrets(value) });
      out.push(...yaml.slice(0, 12));
      if (yaml.length > 12) out.push(p.dim(`  ... ${yaml.length - 12} more lines`));
    } else {
      out.push(`${p.cyan(`${key}:`)} ${String(value)}`);
    }
  }
  for (const w of warnings) out.push(p.yellow(`warning: ${w}`));
  if (isObj(config.dry_run))
    out.push(
      config.dry_run.accepted === false
        ? p.red(`server-side dry run refused: ${JSON.stringify(config.dry_run)}`)
        : p.dim('server-side dry run: accepted'),
    );
  if (isObj(envelope.more_options)) {
    const names = Object.keys(envelope.more_options);
    out.push(
      p.dim(
        `options not set: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ` and ${names.length - 6} more` : ''}`,
      ),
    );
  }
  return out;
}

/** `[########------------]  40% message` in `width` columns. */
export function progressBar(p: { progress: number; total?: number; message?: string }, width = 80): string {
  const total = p.total && p.total > 0 ? p.total : undefined;
  const frac = total ? Math.max(0, Math.min(1, p.progress / total)) : undefined;
  const cells = 24;
  const bar =
    frac === undefined
      ? `[${'='.repeat(p.progress % cells).padEnd(cells, '-')}]`
      : `[${'#'.repeat(Math.round(frac * cells)).padEnd(cells, '-')}]`;
  const pct = frac === undefined ? '' : ` ${String(Math.round(frac * 100)).padStart(3)}%`;
  return clip(`${bar}${pct} ${p.message ?? ''}`.trimEnd(), width);
}
