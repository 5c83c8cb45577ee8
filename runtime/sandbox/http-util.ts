// Small HTTP helpers shared by the sandbox API server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest } from './errors.ts';

const MAX_BODY = 8 * 1024 * 1024;

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown) {
  const e = err instanceof StatusError ? err : new StatusError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? err}`);
  if (!res.headersSent) sendJson(res, e.code, e.toStatus());
  else res.end();
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 8Mi');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson(req: IncomingMessage, parseYaml?: (s: string) => unknown): Promise<any> {
  const text = await readBody(req);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    if (parseYaml) {
      try { return parseYaml(text); } catch { /* fall through */ }
    }
    throw badRequest('the request body could not be decoded: invalid JSON');
  }
}

/** `Warning: 299 - "<text>"` headers, as the API server sends them. */
export const warningHeaders = (warnings: string[]): Record<string, string[]> =>
  warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
