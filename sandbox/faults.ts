// Faults on demand: chosen requests answer with an error status, are delayed, hang, or have their
// connection dropped, on the sandbox's real server, so a client's failure handling is tested
// against the API it talks to. Set from a test (`sandbox.faults`) or over HTTP by any process
// (`/sandbox/v1/faults`: GET lists the rules, POST adds one, DELETE clears them).
import type http from 'node:http';
import { sendJson } from './http-util.ts';

export type Fault = 'error' | 'hang' | 'drop' | 'delay';
export interface FaultRule {
  /** Methods the rule applies to, "|"-separated: "POST|PATCH". */
  method: string;
  /** Matched against the request's path and query. */
  path: RegExp;
  fault: Fault;
  /** For `error`: the status (default 500). For `delay`: milliseconds before the request goes on. */
  status?: number;
  delayMs?: number;
  /** How many matching requests it applies to (default: all); `skip` lets that many through first. */
  times?: number;
  skip?: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};
const SEEN_MAX = 20_000;

export class Faults {
  rules: FaultRule[] = [];
  /** Requests seen, as "METHOD path?query", newest last (bounded). */
  seen: string[] = [];
  private hung = new Set<http.ServerResponse>();

  /** Replaces the rules (none: every request is served normally). */
  set(rules: FaultRule[]) {
    this.rules = rules.map((r) => ({ ...r }));
  }

  /**
   * Applies the first matching rule. Returns true when the request was answered (or dropped) here;
   * a `delay` resolves after its wait and lets the request go on.
   */
  async apply(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    const line = `${req.method} ${req.url}`;
    this.seen.push(line);
    if (this.seen.length > SEEN_MAX) this.seen.splice(0, this.seen.length - SEEN_MAX);
    const rule = this.rules.find(
      (r) =>
        r.method.split('|').includes(req.method ?? '') &&
        r.path.test(req.url ?? '') &&
        (r.times === undefined || r.times > 0),
    );
    if (!rule) return false;
    if (rule.skip) {
      rule.skip--;
      return false;
    }
    if (rule.times !== undefined) rule.times--;
    if (rule.fault === 'delay') {
      await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
      return false;
    }
    if (rule.fault === 'drop') {
      req.socket.destroy();
      return true;
    }
    if (rule.fault === 'hang') {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return true;
    }
    const code = rule.status ?? 500;
    const reason = REASONS[code] ?? 'InternalError';
    sendJson(
      res,
      code,
      {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `injected fault: ${reason}`,
        reason,
        code,
      },
      code === 429 ? { 'Retry-After': ['1'] } : {},
    );
    return true;
  }

  /** Requests held by a `hang` rule whose client has not gone away. */
  get hanging() {
    return this.hung.size;
  }

  /** Ends the requests left hanging (at stop). */
  releaseHung() {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  /** The control endpoint: rules as JSON, with `path` a regular expression's source. */
  async control(req: http.IncomingMessage, res: http.ServerResponse, readJson: () => Promise<any>) {
    if (req.method === 'DELETE') {
      this.set([]);
      return sendJson(res, 200, { rules: [] });
    }
    if (req.method === 'POST') {
      const body = await readJson();
      const list = Array.isArray(body) ? body : [body];
      for (const r of list) {
        if (
          !r ||
          typeof r.method !== 'string' ||
          typeof r.path !== 'string' ||
          !['error', 'hang', 'drop', 'delay'].includes(r.fault)
        ) {
          return sendJson(res, 400, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'BadRequest',
            code: 400,
            message: 'a fault rule needs method, path (a regular expression) and fault (error, hang, drop or delay)',
          });
        }
        this.rules.push({ ...r, path: new RegExp(r.path) });
      }
    }
    return sendJson(res, 200, { rules: this.rules.map((r) => ({ ...r, path: r.path.source })) });
  }
}
