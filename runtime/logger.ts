// Logging: to stderr only (stdout carries the stdio transport), JSON lines or console format, and a
// ring buffer that get_server_logs reads and MCP log notifications follow. Secrets are masked by key
// name and, for values the server has been handed (tokens, keys), by value wherever they appear.

export interface LogRecord {
  timestamp: string;
  level: string;
  logger: string;
  message: string;
  [k: string]: unknown;
}

export const LEVEL_ORDER = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
/** Names that hold secrets: masked in logs, kept out of plain env values. */
const SECRET_NAME = /token|secret|password|passwd|credential|authorization|bearer|private_?key|access_?key|api_?key/i;
export const isSecretName = (name: string) => SECRET_NAME.test(name);

const secretValues = new Set<string>();
/** Values shorter than this are not searched for in text: a "token" such as `train` would otherwise
 * turn every `list_training_jobs()` hint into `list_***ing_jobs()`. Keys are still masked by name. */
const MIN_SECRET_LENGTH = 8;

/** Remember a secret value so that it is masked wherever it shows up in a log line. */
export function registerSecret(v: unknown) {
  if (typeof v === 'string' && v.length >= MIN_SECRET_LENGTH) secretValues.add(v);
}

/** Credentials written into a URL: `scheme://user:password@host` and secret-looking query parameters. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"]+@/gi;
const URL_SECRET_PARAM =
  /([?&](?:[a-z0-9_.-]*(?:token|secret|password|passwd|key|sig|signature|credential|auth)[a-z0-9_.-]*)=)[^&#\s'"]+/gi;

/** Masks known secret values and credentials inside URLs (a pip index with a password, a signed link). */
export function scrub(text: string): string {
  let out = text.includes('://') ? text.replace(URL_USERINFO, '$1***@').replace(URL_SECRET_PARAM, '$1***') : text;
  for (const s of secretValues) out = out.split(s).join('***');
  return out;
}

const MAX_LOGGED_STRING = 300;

/** Deep copy for the audit log: secret-looking keys and known secret values masked, long strings
 * (a whole training script) cut to their first characters. */
export function maskSecrets<T>(v: T, truncate = true): T {
  if (Array.isArray(v)) return v.map((x) => maskSecrets(x, truncate)) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // A stack trace is kept whole: it is what a crash report is read for.
      out[k] = x != null && typeof x !== 'object' && isSecretName(k) ? '***' : maskSecrets(x, truncate && k !== 'err');
    }
    return out as T;
  }
  if (typeof v !== 'string') return v;
  const s = scrub(v);
  return (
    truncate && s.length > MAX_LOGGED_STRING ? `${s.slice(0, MAX_LOGGED_STRING)}... (${s.length} chars)` : s
  ) as T;
}

/** The last `size` records, oldest first; a full buffer overwrites in place (no shifting). */
export class RingBuffer {
  private slots: LogRecord[] = [];
  private next = 0;
  private listeners = new Set<(r: LogRecord) => void>();
  constructor(public size = 1000) {}
  get records(): LogRecord[] {
    return this.slots.length < this.size
      ? [...this.slots]
      : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
  /** The newest `limit` records that pass `keep`, oldest first, and how many pass in all; copies only those. */
  newest(limit: number, keep: (r: LogRecord) => boolean): { records: LogRecord[]; total: number } {
    const out: LogRecord[] = [];
    let total = 0;
    for (let i = 1; i <= this.slots.length; i++) {
      const r = this.slots[(this.next - i + this.slots.length * 2) % this.slots.length];
      if (!keep(r)) continue;
      total++;
      if (out.length < limit) out.push(r);
    }
    return { records: out.reverse(), total };
  }
  push(r: LogRecord) {
    if (this.slots.length < this.size) this.slots.push(r);
    else {
      this.slots[this.next] = r;
      this.next = (this.next + 1) % this.size;
    }
    for (const l of this.listeners) l(r);
  }
  /** Called with every (already masked) record; returns the unsubscribe function. */
  listen(fn: (r: LogRecord) => void) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export interface LoggingOptions {
  level: string;
  format: 'json' | 'console';
  ring?: RingBuffer;
  destination?: NodeJS.WritableStream;
}

/** The server's logger: fields and a message per record, at a level. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Records of every logger not yet written, flushed at exit too (a shutdown must not lose the last ones). */
const flushers = new Set<() => void>();
let exitHooked = false;

/**
 * A logger whose calls only queue the record: masking, the ring buffer (and through it MCP log
 * notifications) and one write of all queued lines happen once per turn of the event loop, after
 * the work that logged them, so a tool call never waits on its audit line or on stderr.
 */
export function createLogger(o: LoggingOptions): { log: Logger; ring: RingBuffer } {
  const ring = o.ring ?? new RingBuffer();
  const dest = o.destination ?? process.stderr;
  const threshold = LEVEL_ORDER.indexOf(o.level.toUpperCase() === 'WARN' ? 'WARNING' : o.level.toUpperCase());
  if (threshold < 0) throw new Error(`unknown log level ${o.level}`);
  let pending: Array<{ time: number; level: string; fields: object; message: string }> = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const records = pending;
    pending = [];
    let out = '';
    for (const r of records) {
      const rec: LogRecord = {
        timestamp: new Date(r.time).toISOString(),
        level: r.level,
        logger: 'kubeflow_mcp',
        message: scrub(r.message),
        ...maskSecrets(r.fields as Record<string, unknown>),
      };
      ring.push(rec);
      const { timestamp, level, logger: _l, message, ...rest } = rec;
      out +=
        o.format === 'json'
          ? `${JSON.stringify(rec)}\n`
          : `${timestamp} ${level.padEnd(8)} ${message}${Object.keys(rest).length ? ' ' + JSON.stringify(rest) : ''}\n`;
    }
    if (out) dest.write(out);
  };
  flushers.add(flush);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const f of flushers) f();
    });
  }
  const at = (level: string) => {
    const enabled = LEVEL_ORDER.indexOf(level) >= threshold;
    return (fields: object, message: string) => {
      if (!enabled) return;
      pending.push({ time: Date.now(), level, fields, message });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    };
  };
  return { log: { debug: at('DEBUG'), info: at('INFO'), warn: at('WARNING'), error: at('ERROR') }, ring };
}
