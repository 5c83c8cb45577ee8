// Logging: pino to stderr only (stdout carries the stdio transport), JSON or console format, and a
// ring buffer that get_server_logs reads. Lines are collected and written once per turn of the event
// loop, after the work that logged them, so a tool call never waits on stderr. Secrets are masked by key name and, for values the
// server has been handed (tokens, keys), by value wherever they appear.
import pino, { type Logger } from 'pino';

export interface LogRecord { timestamp: string; level: string; logger: string; message: string; [k: string]: unknown }

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' };
export const LEVEL_ORDER = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
/** Names that hold secrets: masked in logs, kept out of plain env values. */
const SECRET_NAME = /token|secret|password|passwd|credential|authorization|bearer|private_?key|access_?key|api_?key/i;
export const isSecretName = (name: string) => SECRET_NAME.test(name);

const secretValues = new Set<string>();
/** Values shorter than this are not searched for in text: a "token" such as `train` would otherwise
 * turn every `list_training_jobs()` hint into `list_***ing_jobs()`. Keys are still masked by name. */
const MIN_SECRET_LENGTH = 8;

/** Remember a secret value so that it is masked wherever it shows up in a log line. */
export function registerSecret(v: unknown) { if (typeof v === 'string' && v.length >= MIN_SECRET_LENGTH) secretValues.add(v); }

export function scrub(text: string): string {
  let out = text;
  for (const s of secretValues) out = out.split(s).join('***');
  return out;
}

const MAX_LOGGED_STRING = 300;

/** Deep copy for the audit log: secret-looking keys and known secret values masked, long strings
 * (a whole training script) cut to their first characters. */
export function maskSecrets<T>(v: T, truncate = true): T {
  if (Array.isArray(v)) return v.map((x) => maskSecrets(x, truncate)) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretName(k) && x != null && typeof x !== 'object' ? '***' : maskSecrets(x, truncate)])) as T;
  }
  if (typeof v !== 'string') return v;
  const s = scrub(v);
  return (truncate && s.length > MAX_LOGGED_STRING ? `${s.slice(0, MAX_LOGGED_STRING)}... (${s.length} chars)` : s) as T;
}

export class RingBuffer {
  records: LogRecord[] = [];
  private listeners = new Set<(r: LogRecord) => void>();
  constructor(public size = 1000) {}
  push(r: LogRecord) {
    this.records.push(r);
    if (this.records.length > this.size) this.records.shift();
    for (const l of this.listeners) l(r);
  }
  /** Called with every (already masked) record; returns the unsubscribe function. */
  listen(fn: (r: LogRecord) => void) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
}

export interface LoggingOptions { level: string; format: 'json' | 'console'; ring?: RingBuffer; destination?: NodeJS.WritableStream }

/** Pending lines of every logger, written at exit too (a shutdown must not lose the last ones). */
const flushers = new Set<() => void>();
let exitHooked = false;

export function createLogger(o: LoggingOptions): { log: Logger; ring: RingBuffer } {
  const ring = o.ring ?? new RingBuffer();
  const dest = o.destination ?? process.stderr;
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const lines = pending;
    pending = [];
    let out = '';
    for (const chunk of lines) {
      const line = scrub(chunk);
      try {
        const j = JSON.parse(line);
        const { level, time, msg, name, pid, hostname, ...rest } = j;
        const rec: LogRecord = { timestamp: new Date(time).toISOString(), level: LEVEL_NAMES[level] ?? String(level), logger: name ?? 'kubeflow_mcp', message: msg ?? '', ...rest };
        ring.push(rec);
        out += o.format === 'json' ? line : `${rec.timestamp} ${rec.level.padEnd(8)} ${rec.message}${Object.keys(rest).length ? ' ' + JSON.stringify(rest) : ''}\n`;
      } catch {
        out += line;
      }
    }
    if (out) dest.write(out);
  };
  flushers.add(flush);
  if (!exitHooked) { exitHooked = true; process.once('exit', () => { for (const f of flushers) f(); }); }
  // pino writes each line here as it is logged; the parsing, masking and the write wait for the flush.
  const sink = { write(line: string) { pending.push(line); if (!scheduled) { scheduled = true; setImmediate(flush); } } };
  const level = ({ WARNING: 'warn', CRITICAL: 'fatal' } as Record<string, string>)[o.level.toUpperCase()] ?? o.level.toLowerCase();
  const log = pino({
    name: 'kubeflow_mcp', level, base: undefined,
    redact: { paths: ['*.token', '*.hf_token', '*.access_token', '*.s3_secret_access_key', '*.s3_access_key_id', '*.authorization', 'parameters.*.token'], censor: '***' },
  }, sink);
  return { log, ring };
}
