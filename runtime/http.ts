// `serve --transport http`: MCP over streamable HTTP at one path, with sessions (one MCP server per
// session, bound to the caller who opened it) or stateless (one per request, for replicas behind a
// Service), a static bearer token compared in constant time and/or JWTs checked against a JWKS,
// OAuth protected-resource metadata (RFC 9728), Host and Origin allowlists against DNS rebinding, a body size limit,
// `/healthz` (the process answers), `/readyz` (the Kubernetes API and the Trainer CRD answer,
// checked at most every few seconds), `/metrics` (Prometheus), and a shutdown that lets in-flight
// requests finish.
import http from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { isLoopback, type HttpConfig } from './config.ts';
import type { Kube } from './k8s/client.ts';
import type { Caller } from './policy.ts';
import { JwtError, jwtVerifier } from './auth/jwt.ts';
import type { Logger } from './logger.ts';
import { metrics } from './metrics.ts';

interface McpServer { connect(t: StreamableHTTPServerTransport | SSEServerTransport): Promise<void>; close(): Promise<void> }

/** Thrown by newServer when the policy gives this caller nothing: answered with 403. */
export class CallerRefused extends Error { override name = 'CallerRefused'; }

export interface HttpOptions {
  config: HttpConfig;
  /** A fresh MCP server for this caller (per session, or per request when stateless); no caller without authentication. */
  newServer: (caller: Caller | undefined) => McpServer;
  kube: Kube;
  log: Logger;
}

const READY_CACHE_MS = 5000;
const digest = (s: string) => createHash('sha256').update(s).digest();

function jsonRpcError(res: http.ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export async function serveHttp(o: HttpOptions) {
  const c = o.config;
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport | SSEServerTransport; server: McpServer; subject?: string }>();
  const messagesPath = `${c.path.replace(/\/+$/, '')}/messages`;
  const verifyJwt = c.jwt ? jwtVerifier(c.jwt) : undefined;
  const authRequired = !!(c.token || verifyJwt);
  let inFlight = 0;
  let ready: { at: number; ok: boolean; reason?: string } | undefined;
  const want = c.token ? digest(c.token) : undefined;

  const hostAllowed = (host: string | undefined, port: number) => {
    if (c.allowedHosts.length) return !!host && c.allowedHosts.includes(host);
    if (!isLoopback(c.host)) return true;
    return !!host && ['127.0.0.1', 'localhost', '[::1]'].some((h) => host === h || host === `${h}:${port}`);
  };
  const originAllowed = (origin: string | undefined, port: number) => {
    if (!origin) return true; // not a browser
    if (c.allowedOrigins.length) return c.allowedOrigins.includes(origin);
    return isLoopback(c.host) && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin) && (!origin.match(/:(\d+)$/) || Number(origin.match(/:(\d+)$/)![1]) === port);
  };

  const bearer = (req: http.IncomingMessage) => /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1].trim();
  /** The static token matches; digests of equal length, so the comparison takes the same time whatever was sent. */
  const staticMatch = (token: string | undefined) => !!token && !!want && timingSafeEqual(digest(token), want);

  /** Who sent the request, or why not: the static token first, then a JWT. */
  async function authenticate(req: http.IncomingMessage): Promise<{ caller: Caller } | { problem: string; tokenSent: boolean }> {
    const token = bearer(req);
    if (!token) return { problem: 'authentication required: send Authorization: Bearer <token>', tokenSent: false };
    if (staticMatch(token)) return { caller: { subject: 'static-token', groups: [], scopes: [], via: 'static-token' } };
    if (!verifyJwt) return { problem: 'the bearer token is not valid', tokenSent: true };
    try { return { caller: await verifyJwt(token) }; } catch (e) {
      if (e instanceof JwtError) return { problem: e.message, tokenSent: true };
      throw e;
    }
  }

  const metadataUrl = (req: http.IncomingMessage) => `${resourceUrl(req).replace(/(https?:\/\/[^/]+).*$/, '$1')}/.well-known/oauth-protected-resource${c.path}`;
  const resourceUrl = (req: http.IncomingMessage) => c.resourceUrl ?? `http://${req.headers.host ?? `${c.host}:${c.port}`}${c.path}`;
  function unauthorized(req: http.IncomingMessage, res: http.ServerResponse, problem: string, tokenSent: boolean) {
    const quoted = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
    const challenge = ['Bearer realm="kubeflow-mcp"', ...(verifyJwt ? [`resource_metadata=${quoted(metadataUrl(req))}`] : []), ...(tokenSent ? ['error="invalid_token"', `error_description=${quoted(problem)}`] : [])].join(', ');
    return jsonRpcError(res, 401, -32001, problem, { 'WWW-Authenticate': challenge });
  }

  async function readiness() {
    if (ready && Date.now() - ready.at < READY_CACHE_MS) return ready;
    try {
      await o.kube.version();
      await o.kube.get('customresourcedefinitions', 'trainjobs.trainer.kubeflow.org');
      ready = { at: Date.now(), ok: true };
    } catch (e) {
      ready = { at: Date.now(), ok: false, reason: (e as Error).message };
    }
    return ready;
  }

  async function readBody(req: http.IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > c.maxBodyBytes) throw Object.assign(new Error('too large'), { tooLarge: true });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > c.maxBodyBytes) throw Object.assign(new Error('too large'), { tooLarge: true });
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, port: number) {
    const url = new URL(req.url ?? '/', 'http://server');
    if (url.pathname === '/healthz') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return; }
    if (url.pathname === '/readyz') {
      const r = await readiness();
      const body = JSON.stringify({ ready: r.ok, ...(r.reason ? { reason: r.reason } : {}) });
      res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    // OAuth protected-resource metadata (RFC 9728): where a client gets a token for this server.
    if (verifyJwt && (url.pathname === '/.well-known/oauth-protected-resource' || url.pathname === `/.well-known/oauth-protected-resource${c.path}`)) {
      const body = JSON.stringify({ resource: resourceUrl(req), authorization_servers: [c.jwt!.issuer], bearer_methods_supported: ['header'], resource_name: 'kubeflow-mcp' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=3600' });
      res.end(body);
      return;
    }
    if (url.pathname === '/metrics') {
      // Behind the same token as MCP: call counts say what the team is doing.
      if (authRequired) {
        const who = await authenticate(req);
        if ('problem' in who) return unauthorized(req, res, who.problem, who.tokenSent);
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
      return;
    }
    if (url.pathname !== c.path && !(c.legacySse && url.pathname === messagesPath)) return jsonRpcError(res, 404, -32601, `not found: MCP is served at ${c.path}`);
    if (!hostAllowed(req.headers.host, port)) return jsonRpcError(res, 403, -32000, `Host "${req.headers.host}" is not allowed (DNS-rebinding protection; see --allowed-hosts)`);
    if (!originAllowed(req.headers.origin, port)) return jsonRpcError(res, 403, -32000, `Origin "${req.headers.origin}" is not allowed (see --allowed-origins)`);
    let caller: Caller | undefined;
    if (authRequired) {
      const who = await authenticate(req);
      if ('problem' in who) return unauthorized(req, res, who.problem, who.tokenSent);
      caller = who.caller;
      // What the SDK hands the tool handlers as authInfo (never the token itself).
      (req as any).auth = { token: '[redacted]', clientId: caller.subject, scopes: caller.scopes, extra: { groups: caller.groups } };
    }
    const open = () => {
      try { return o.newServer(caller); } catch (e) {
        if (e instanceof CallerRefused) { jsonRpcError(res, 403, -32001, e.message); return undefined; }
        throw e;
      }
    };
    let body: unknown;
    if (req.method === 'POST') {
      try { body = await readBody(req); } catch (e) {
        if ((e as any).tooLarge) return jsonRpcError(res, 413, -32600, `request over the ${c.maxBodyBytes}-byte limit (KUBEFLOW_MCP_MAX_REQUEST_BYTES)`);
        return jsonRpcError(res, 400, -32700, 'parse error: the body is not JSON');
      }
    }
    if (c.legacySse) return legacySse(req, res, url, body, caller, open);
    if (c.stateless) {
      const server = open();
      if (!server) return;
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => { void transport.close(); void server.close(); });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    // A session belongs to whoever opened it: another caller's token cannot ride on its id.
    if (known && known.subject !== caller?.subject) return jsonRpcError(res, 403, -32001, 'this session belongs to another caller');
    if (known && known.transport instanceof StreamableHTTPServerTransport) return known.transport.handleRequest(req, res, body);
    if (id) return jsonRpcError(res, 404, -32001, 'session not found: initialize a new session');
    const isInit = req.method === 'POST' && [body].flat().some((m: any) => m?.method === 'initialize');
    if (!isInit) return jsonRpcError(res, 400, -32000, 'no session: send initialize first (or run the server with --stateless)');
    const server = open();
    if (!server) return;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => { sessions.set(sid, { transport, server, subject: caller?.subject }); },
      onsessionclosed: (sid) => { sessions.delete(sid); void server.close(); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  /** The HTTP+SSE transport of protocol 2024-11-05, for clients that have not moved on: a GET opens
   * the event stream (it names the URL to post to), each POST carries one message. */
  async function legacySse(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: unknown, caller: Caller | undefined, open: () => McpServer | undefined) {
    if (req.method === 'GET' && url.pathname === c.path) {
      const server = open();
      if (!server) return;
      const transport = new SSEServerTransport(messagesPath, res);
      sessions.set(transport.sessionId, { transport, server, subject: caller?.subject });
      transport.onclose = () => { sessions.delete(transport.sessionId); void server.close(); };
      await server.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === messagesPath) {
      const known = sessions.get(url.searchParams.get('sessionId') ?? '');
      if (!known || !(known.transport instanceof SSEServerTransport)) return jsonRpcError(res, 404, -32001, 'session not found: open the event stream first');
      if (known.subject !== caller?.subject) return jsonRpcError(res, 403, -32001, 'this session belongs to another caller');
      return known.transport.handlePostMessage(req as any, res, body);
    }
    return jsonRpcError(res, 405, -32000, `the legacy SSE transport takes GET ${c.path} and POST ${messagesPath}`);
  }

  const httpServer = http.createServer((req, res) => {
    // A GET is a long-lived notification stream; only calls are waited for at shutdown.
    if (req.method !== 'GET') { inFlight++; res.on('close', () => { inFlight--; }); }
    const port = (httpServer.address() as AddressInfo).port;
    handle(req, res, port).catch((e) => {
      o.log.error({ err: (e as Error).stack }, 'http request failed');
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => { httpServer.once('error', reject); httpServer.listen(c.port, c.host, () => resolve()); });
  const addr = httpServer.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}${c.path}`;

  return {
    url,
    sessions: () => sessions.size,
    /** Stops taking requests, lets those in flight finish (up to `graceMs`), then closes the sessions. */
    async close(graceMs = 10_000) {
      httpServer.close();
      const until = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      for (const { transport, server } of sessions.values()) { await transport.close().catch(() => {}); await server.close().catch(() => {}); }
      httpServer.closeAllConnections();
    },
  };
}
