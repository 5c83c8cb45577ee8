// Small HTTP helpers shared by the sandbox API server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest } from './errors.ts';
import { decodeProtobufBody } from './protobuf.ts';

const MAX_BODY = 8 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Like sendJson, for a body that is JSON text already (made once, sent many times). */
export function sendJsonText(
  res: ServerResponse,
  code: number,
  text: string,
  headers: Record<string, string | string[]> = {},
) {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * A list object (`head` and then its items) whose items are JSON text already: the same bytes as
 * JSON.stringify of the whole list, without serialising the items again.
 */
export function listText(head: Record<string, unknown>, items: string[]): string {
  const start = JSON.stringify(head);
  return `${start.slice(0, -1)}${start.length > 2 ? ',' : ''}"items":[${items.join(',')}]}`;
}

/** Resolves once `res` may be written again (or is gone). */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function sendError(res: ServerResponse, err: unknown) {
  const e =
    err instanceof StatusError
      ? err
      : new StatusError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? err}`);
  if (!res.headersSent) sendJson(res, e.code, e.toStatus());
  else res.end();
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) {
      // Read the rest, so the client sees the 413 on a connection that still works.
      for await (const _ of req) {
        /* drained */
      }
      throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 8Mi');
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

export async function readJson(req: IncomingMessage, parseYaml?: (s: string) => unknown): Promise<any> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufBody(await readBytes(req));
  if (type && !/json|yaml/.test(type)) {
    await readBytes(req).catch(() => undefined);
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  }
  const text = await readBody(req);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    if (parseYaml) {
      try {
        return parseYaml(text);
      } catch {
        /* fall through */
      }
    }
    throw badRequest('the request body could not be decoded: invalid JSON');
  }
}

/** `Warning: 299 - "<text>"` headers, as the API server sends them. */
export const warningHeaders = (warnings: string[]): Record<string, string[]> =>
  warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
