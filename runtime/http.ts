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
import { isModernPost, serveModern } from './protocol/http.ts';
import { CAPABILITIES, SERVER_NAME } from './listing.ts';
import { VERSION } from './version.ts';

interface McpServer {
  connect(t: unknown): Promise<void>;
  close(): Promise<void>;
  /** tasks/* of the 2026-07-28 era. */
  taskRequest?: (
    method: string,
    params: Record<string, any> | undefined,
    principal?: string,
  ) => Promise<Record<string, unknown>>;
  /** The instructions server/discover gives this caller. */
  instructions?: string;
}

/** Thrown by newServer when the policy gives this caller nothing: answered with 403. */
export class CallerRefused extends Error {
  override name = 'CallerRefused';
}

export interface HttpOptions {
  config: HttpConfig;
  /** A fresh MCP server for this caller (per session, or per request when stateless); no caller
   * without authentication, and then `remote` (the client's address) names them for rate limits. */
  newServer: (caller: Caller | undefined, remote: string, era?: 'legacy' | 'modern') => McpServer;
  kube: Kube;
  log: Logger;
  /** Called when the shutdown grace is over and calls are still running: they should answer now. */
  onGraceOver?: () => void;
}

const READY_CACHE_MS = 5000;
const digest = (s: string) => createHash('sha256').update(s).digest();

function jsonRpcError(
  res: http.ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A host (or origin) pattern: exact, or `name:*` for any port. */
const hostMatches = (pattern: string, value: string) =>
  pattern.endsWith(':*')
    ? value === pattern.slice(0, -2) ||
      (value.startsWith(`${pattern.slice(0, -1)}`) && /^\d+$/.test(value.slice(pattern.length - 1)))
    : value === pattern;

interface Session {
  transport: StreamableHTTPServerTransport | SSEServerTransport;
  server: McpServer;
  subject?: string;
  lastSeen: number;
  busy: number;
}

export async function serveHttp(o: HttpOptions) {
  const c = o.config;
  const sessions = new Map<string, Session>();
  const maxSessions = c.maxSessions ?? 1000;
  const idleMs = c.sessionIdleMs ?? 30 * 60_000;
  const messagesPath = `${c.path.replace(/\/+$/, '')}/messages`;
  const verifyJwt = c.jwt ? jwtVerifier(c.jwt) : undefined;
  const authRequired = !!(c.token || verifyJwt);
  let inFlight = 0;
  let ready: { at: number; ok: boolean; reason?: string } | undefined;
  const want = c.token ? digest(c.token) : undefined;

  const checks = c.hostChecks !== false;
  /** The Host names a client may use: the allowlist, or on loopback the loopback names. */
  const hostListed = (host: string | undefined, port: number) => {
    if (!host) return false;
    if (c.allowedHosts.length) return c.allowedHosts.some((p) => hostMatches(p, host));
    return isLoopback(c.host) && ['127.0.0.1', 'localhost', '[::1]'].some((h) => host === h || host === `${h}:${port}`);
  };
  const hostAllowed = (host: string | undefined, port: number) =>
    !checks || hostListed(host, port) || (!c.allowedHosts.length && !isLoopback(c.host));
  const originAllowed = (origin: string | undefined, port: number) => {
    if (!origin || !checks) return true; // not a browser
    if (c.allowedOrigins.length) return c.allowedOrigins.some((p) => hostMatches(p, origin));
    return (
      isLoopback(c.host) &&
      /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin) &&
      (!origin.match(/:(\d+)$/) || Number(origin.match(/:(\d+)$/)![1]) === port)
    );
  };

  const bearer = (req: http.IncomingMessage) =>
    /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1].trim();
  /** Node keeps only the first of several Authorization headers; a request carrying more is ambiguous. */
  const credentialHeaders = (req: http.IncomingMessage) =>
    req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length;
  /** The static token matches; digests of equal length, so the comparison takes the same time whatever was sent. */
  const staticMatch = (token: string | undefined) => !!token && !!want && timingSafeEqual(digest(token), want);

  /** Who sent the request, or why not: the static token first, then a JWT. */
  async function authenticate(
    req: http.IncomingMessage,
  ): Promise<{ caller: Caller } | { problem: string; tokenSent: boolean }> {
    const token = bearer(req);
    if (!token) return { problem: 'authentication required: send Authorization: Bearer <token>', tokenSent: false };
    if (staticMatch(token)) return { caller: { subject: 'static-token', groups: [], scopes: [], via: 'static-token' } };
    if (!verifyJwt) return { problem: 'the bearer token is not valid', tokenSent: true };
    try {
      return { caller: await verifyJwt(token) };
    } catch (e) {
      if (e instanceof JwtError) return { problem: e.message, tokenSent: true };
      throw e;
    }
  }

  const metadataUrl = (req: http.IncomingMessage) =>
    `${resourceUrl(req).replace(/(https?:\/\/[^/]+).*$/, '$1')}/.well-known/oauth-protected-resource${c.path}`;
  /** This server's URL: configured, else the Host the request used if it is one the server answers
   * to by name (allowlist or loopback), else the bind address; never an arbitrary Host header. */
  const resourceUrl = (req: http.IncomingMessage) => {
    if (c.resourceUrl) return c.resourceUrl;
    const port = (httpServer.address() as AddressInfo).port;
    const host =
      req.headers.host && hostListed(req.headers.host, port) && !req.headers.host.includes('*')
        ? req.headers.host
        : `${c.host.includes(':') ? `[${c.host}]` : c.host}:${port}`;
    return `http://${host}${c.path}`;
  };
  function unauthorized(req: http.IncomingMessage, res: http.ServerResponse, problem: string, tokenSent: boolean) {
    const quoted = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
    const challenge = [
      'Bearer realm="kubeflow-mcp"',
      ...(verifyJwt ? [`resource_metadata=${quoted(metadataUrl(req))}`] : []),
      ...(tokenSent ? ['error="invalid_token"', `error_description=${quoted(problem)}`] : []),
    ].join(', ');
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
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (credentialHeaders(req) > 1)
      return jsonRpcError(res, 400, -32600, 'more than one Authorization header: send exactly one');
    if (url.pathname === '/readyz') {
      const r = await readiness();
      const body = JSON.stringify({ ready: r.ok, ...(r.reason ? { reason: r.reason } : {}) });
      res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    // Probes (kubelets send the pod IP as Host) pass above; every other path checks Host and Origin.
    if (!hostAllowed(req.headers.host, port))
      return jsonRpcError(
        res,
        403,
        -32000,
        `Host "${req.headers.host}" is not allowed (DNS-rebinding protection; see --allowed-hosts)`,
      );
    if (!originAllowed(req.headers.origin, port))
      return jsonRpcError(res, 403, -32000, `Origin "${req.headers.origin}" is not allowed (see --allowed-origins)`);
    // OAuth protected-resource metadata (RFC 9728): where a client gets a token for this server.
    if (
      verifyJwt &&
      (url.pathname === '/.well-known/oauth-protected-resource' ||
        url.pathname === `/.well-known/oauth-protected-resource${c.path}`)
    ) {
      const body = JSON.stringify({
        resource: resourceUrl(req),
        authorization_servers: [c.jwt!.issuer],
        bearer_methods_supported: ['header'],
        resource_name: 'kubeflow-mcp',
      });
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Cache-Control': c.resourceUrl ? 'max-age=3600' : 'no-store',
      });
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
    if (url.pathname !== c.path && !(c.legacySse && url.pathname === messagesPath))
      return jsonRpcError(res, 404, -32601, `not found: MCP is served at ${c.path}`);
    let caller: Caller | undefined;
    if (authRequired) {
      const who = await authenticate(req);
      if ('problem' in who) return unauthorized(req, res, who.problem, who.tokenSent);
      caller = who.caller;
      // What the SDK hands the tool handlers as authInfo (never the token itself).
      (req as any).auth = {
        token: '[redacted]',
        clientId: caller.subject,
        scopes: caller.scopes,
        extra: { groups: caller.groups },
      };
    }
    const open = (era: 'legacy' | 'modern' = 'legacy') => {
      try {
        return o.newServer(caller, req.socket.remoteAddress ?? 'unknown', era);
      } catch (e) {
        if (e instanceof CallerRefused) {
          jsonRpcError(res, 403, -32001, e.message);
          return undefined;
        }
        throw e;
      }
    };
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readBody(req);
      } catch (e) {
        if ((e as any).tooLarge)
          return jsonRpcError(
            res,
            413,
            -32600,
            `request over the ${c.maxBodyBytes}-byte limit (KUBEFLOW_MCP_MAX_REQUEST_BYTES)`,
          );
        return jsonRpcError(res, 400, -32700, 'parse error: the body is not JSON');
      }
    }
    // The 2026-07-28 era: no session, whatever mode the 2025 era is served in (see protocol/http.ts).
    if (!c.legacySse && url.pathname === c.path && isModernPost(req, body)) {
      return serveModern(req, res, body, {
        server: { name: SERVER_NAME, version: VERSION },
        capabilities: CAPABILITIES,
        open: () => open('modern'),
        principal: caller?.subject,
        authInfo: (req as any).auth,
      });
    }
    if (c.legacySse) return legacySse(req, res, url, body, caller, open);
    if (c.stateless) {
      const server = open();
      if (!server) return;
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    // A session belongs to whoever opened it: another caller's token cannot ride on its id.
    if (known && known.subject !== caller?.subject)
      return jsonRpcError(res, 403, -32001, 'this session belongs to another caller');
    if (known && known.transport instanceof StreamableHTTPServerTransport) {
      touch(known, res);
      return known.transport.handleRequest(req, res, body);
    }
    if (id) return jsonRpcError(res, 404, -32001, 'session not found: initialize a new session');
    const isInit = req.method === 'POST' && [body].flat().some((m: any) => m?.method === 'initialize');
    if (!isInit)
      return jsonRpcError(res, 400, -32000, 'no session: send initialize first (or run the server with --stateless)');
    if (!roomForSession(res)) return;
    const server = open();
    if (!server) return;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => {
        addSession(sid, { transport, server, subject: caller?.subject, lastSeen: Date.now(), busy: 0 });
      },
      onsessionclosed: (sid) => {
        dropSession(sid);
        void server.close();
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) dropSession(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  /** The HTTP+SSE transport of protocol 2024-11-05, for clients that have not moved on: a GET opens
   * the event stream (it names the URL to post to), each POST carries one message. */
  async function legacySse(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    body: unknown,
    caller: Caller | undefined,
    open: (era?: 'legacy' | 'modern') => McpServer | undefined,
  ) {
    if (req.method === 'GET' && url.pathname === c.path) {
      if (!roomForSession(res)) return;
      const server = open();
      if (!server) return;
      const transport = new SSEServerTransport(messagesPath, res);
      const session: Session = { transport, server, subject: caller?.subject, lastSeen: Date.now(), busy: 0 };
      addSession(transport.sessionId, session);
      touch(session, res);
      // Closing the server closes the transport, which reports onclose again: close once, or the
      // two call each other until the stack runs out.
      let closed = false;
      transport.onclose = () => {
        if (closed) return;
        closed = true;
        dropSession(transport.sessionId);
        void server.close();
      };
      await server.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === messagesPath) {
      const known = sessions.get(url.searchParams.get('sessionId') ?? '');
      if (!known || !(known.transport instanceof SSEServerTransport))
        return jsonRpcError(res, 404, -32001, 'session not found: open the event stream first');
      if (known.subject !== caller?.subject)
        return jsonRpcError(res, 403, -32001, 'this session belongs to another caller');
      touch(known, res);
      return known.transport.handlePostMessage(req as any, res, body);
    }
    return jsonRpcError(res, 405, -32000, `the legacy SSE transport takes GET ${c.path} and POST ${messagesPath}`);
  }

  function addSession(id: string, s: Session) {
    sessions.set(id, s);
    metrics.sessions.open = sessions.size;
  }
  function dropSession(id: string) {
    if (sessions.delete(id)) metrics.sessions.open = sessions.size;
  }
  /** A request of this session: it is not idle while the request (or its stream) is open. */
  function touch(s: Session, res: http.ServerResponse) {
    s.busy++;
    s.lastSeen = Date.now();
    res.on('close', () => {
      s.busy--;
      s.lastSeen = Date.now();
    });
  }
  async function closeSession(id: string, s: Session) {
    dropSession(id);
    await s.transport.close().catch(() => {});
    await s.server.close().catch(() => {});
  }
  /** Sessions nobody has used for the idle time are closed (a client that vanished never sends DELETE). */
  function expireIdle(now = Date.now()) {
    for (const [id, s] of sessions) {
      if (s.busy === 0 && now - s.lastSeen >= idleMs) {
        metrics.sessions.expired++;
        void closeSession(id, s);
      }
    }
  }
  const sweeper = setInterval(expireIdle, Math.max(250, Math.min(60_000, idleMs / 4)));
  sweeper.unref();
  /** Whether a new session fits under the cap (after closing idle ones); answers 503 when not. */
  function roomForSession(res: http.ServerResponse): boolean {
    if (sessions.size >= maxSessions) expireIdle();
    if (sessions.size < maxSessions) return true;
    metrics.sessions.refused++;
    jsonRpcError(
      res,
      503,
      -32000,
      `too many sessions open (${maxSessions}, KUBEFLOW_MCP_MAX_SESSIONS); close one or retry later`,
      { 'Retry-After': '5' },
    );
    return false;
  }

  // Deadlines on headers and bodies are checked every second (Node's default is every 30 s).
  const httpServer = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    // A GET is a long-lived notification stream; only calls are waited for at shutdown.
    if (req.method !== 'GET') {
      inFlight++;
      res.on('close', () => {
        inFlight--;
      });
    }
    // A socket is idle only between requests: a long call or an open stream may be silent for long.
    const socket = req.socket as typeof req.socket & { kfBusy?: number };
    socket.kfBusy = (socket.kfBusy ?? 0) + 1;
    res.on('close', () => {
      socket.kfBusy!--;
    });
    const port = (httpServer.address() as AddressInfo).port;
    handle(req, res, port).catch((e) => {
      o.log.error({ err: (e as Error).stack }, 'http request failed');
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  // Slow or endless clients are cut off: headers within 10 s, a whole request within 30 s, a
  // kept-alive socket idle for 5 s, any socket silent for 120 s between requests.
  httpServer.headersTimeout = c.headersTimeoutMs ?? 10_000;
  httpServer.requestTimeout = c.requestTimeoutMs ?? 30_000;
  httpServer.keepAliveTimeout = 5_000;
  httpServer.setTimeout(c.idleSocketMs ?? 120_000, (socket) => {
    if (!(socket as any).kfBusy) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(c.port, c.host, () => resolve());
  });
  const addr = httpServer.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}${c.path}`;

  return {
    url,
    sessions: () => sessions.size,
    /** Stops taking requests, lets those in flight finish (up to `graceMs`), answers those still
     * running as cancelled, then closes the sessions. */
    async close(graceMs = 10_000) {
      httpServer.close();
      clearInterval(sweeper);
      const until = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      if (inFlight > 0) {
        o.onGraceOver?.();
        const answered = Date.now() + 2000;
        while (inFlight > 0 && Date.now() < answered) await new Promise((r) => setTimeout(r, 25));
      }
      for (const [id, s] of sessions) await closeSession(id, s);
      httpServer.closeAllConnections();
    },
  };
}
