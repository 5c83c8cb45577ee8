// The 2026-07-28 era on Streamable HTTP: one POST, one JSON-RPC message, no session. The body's
// envelope and the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers are checked before anything
// runs (400 with -32020, -32022 or -32602 otherwise); server/discover and the tasks methods are
// answered here; every other request goes to a server made for it (the caller's grant, as in
// stateless mode) through a transport that lives for that one request. The answer is JSON, or an
// event stream when the client asked for progress and accepts one. A client that hangs up before
// the answer cancels the request.
import type http from 'node:http';
import { ACKNOWLEDGED, ListenRoutes, SUBSCRIPTION_ID_KEY, tagged } from './listen.ts';
import {
  checkHeaders,
  claimsModern,
  decorate,
  discoverResult,
  isRefusal,
  methodNotFound,
  missingTasksCapability,
  readEnvelope,
  KNOWN_METHODS,
  MISSING_CLIENT_CAPABILITY,
  MODERN_VERSIONS,
  REMOVED_METHODS,
  UNSUPPORTED_VERSION,
  type Envelope,
  type Identity,
  type RpcError,
} from './era.ts';

type Msg = { jsonrpc: '2.0'; id?: string | number | null; method?: string; params?: any; result?: any; error?: any };

export interface ModernServer {
  connect(t: unknown): Promise<void>;
  close(): Promise<void>;
  taskRequest?: (
    method: string,
    params: Record<string, any> | undefined,
    principal?: string,
  ) => Promise<Record<string, unknown>>;
  instructions?: string;
}

export interface ModernOptions {
  server: Identity;
  capabilities: Record<string, unknown>;
  /** The caller's own server (undefined when refused; the refusal is already answered). */
  open: () => ModernServer | undefined;
  principal?: string;
  authInfo?: unknown;
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
const failure = (res: http.ServerResponse, status: number, id: Msg['id'], error: RpcError) =>
  send(res, status, { jsonrpc: '2.0', id: id ?? null, error });

/** Whether a POST belongs to the new era: a body claiming it, or (for a body that does not) a new-era MCP-Protocol-Version header. */
export function isModernPost(req: http.IncomingMessage, body: unknown): boolean {
  if (req.method !== 'POST' || body === undefined) return false;
  if ([body].flat().some(claimsModern)) return true;
  const v = req.headers['mcp-protocol-version'];
  return typeof v === 'string' && MODERN_VERSIONS.includes(v) && !(body as Msg)?.method?.startsWith('initialize');
}

/** The HTTP status an answer goes with: 404 for a method not found, 400 for a missing client capability. */
const statusOf = (error: Msg['error']) =>
  error?.code === -32601 ? 404 : error?.code === MISSING_CLIENT_CAPABILITY ? 400 : 200;

/**
 * The listen streams open in this process. When it is told to stop (SIGTERM, SIGINT) each ends at
 * once with its result, so that clients listen again elsewhere (another replica) straight away and
 * the shutdown's grace is spent on calls, not on streams that would never finish by themselves.
 */
const openListens = new Set<RequestTransport>();
let stopHooked = false;
function trackListen(t: RequestTransport) {
  openListens.add(t);
  if (stopHooked) return;
  stopHooked = true;
  const endAll = () => {
    for (const l of [...openListens]) l.endListen();
  };
  process.once('SIGTERM', endAll);
  process.once('SIGINT', endAll);
}

/** How often an open listen stream carries a comment, so that proxies do not take it for idle. */
const HEARTBEAT_MS = 20_000;

/** A transport for one request: hands the message to the server and writes its answer. A
 * subscriptions/listen request streams: its acknowledgement, then the notifications its filter takes. */
class RequestTransport {
  onmessage?: (m: Msg, extra?: unknown) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;
  sessionId = undefined;
  private streaming = false;
  private answered = false;
  private routes = new ListenRoutes();
  private heartbeat?: NodeJS.Timeout;
  constructor(
    private res: http.ServerResponse,
    private id: string | number,
    private method: string,
    private identity: Identity,
    private stream: boolean,
    private done: () => void,
  ) {}
  async start() {}
  private event(m: Msg) {
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        'X-Accel-Buffering': 'no',
      });
    }
    this.res.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
  }
  async send(m: Msg) {
    if (this.answered) return;
    if (m.method !== undefined) {
      if (this.method === 'subscriptions/listen') {
        if (m.method === ACKNOWLEDGED) {
          this.routes.observe(m, this.id);
          this.event(tagged(m, this.id));
          this.heartbeat = setInterval(() => this.res.write(': keep-alive\n\n'), HEARTBEAT_MS);
          this.heartbeat.unref();
        } else for (const copy of this.routes.route(m)) this.event(copy);
        return;
      }
      // Progress of this request, when the client asked for it on a stream; nothing else is sent in this era.
      if (m.method !== 'notifications/progress' || !this.stream) return;
      this.event(m);
      return;
    }
    this.answered = true;
    clearInterval(this.heartbeat);
    const out =
      m.result && typeof m.result === 'object' ? { ...m, result: decorate(m.result, this.method, this.identity) } : m;
    if (this.streaming) {
      this.event(out);
      this.res.end();
    } else send(this.res, statusOf(m.error), out);
    this.done();
  }
  /** Ends an open listen stream as the server does on shutdown: its (empty) result, then the end of the response. */
  endListen() {
    if (this.answered || this.method !== 'subscriptions/listen' || !this.streaming) return;
    this.answered = true;
    clearInterval(this.heartbeat);
    this.event({
      jsonrpc: '2.0',
      id: this.id,
      result: decorate({ _meta: { [SUBSCRIPTION_ID_KEY]: this.id } }, this.method, this.identity),
    });
    this.res.end();
    // The handler stops waiting (and leaves the shared watch) as for a client's cancellation.
    this.onmessage?.({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: this.id, reason: 'the server is shutting down' },
    });
    this.done();
  }
  async close() {
    clearInterval(this.heartbeat);
    this.onclose?.();
  }
  get isAnswered() {
    return this.answered;
  }
}

export async function serveModern(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: unknown,
  o: ModernOptions,
): Promise<void> {
  if (Array.isArray(body))
    return failure(res, 400, null, {
      code: -32600,
      message: 'Invalid request: protocol 2026-07-28 takes one message per POST, not a batch',
    });
  const m = body as Msg;
  if (!m || typeof m !== 'object' || m.jsonrpc !== '2.0' || typeof m.method !== 'string')
    return failure(res, 400, m?.id, {
      code: -32600,
      message: 'Invalid request: expected a JSON-RPC request or notification',
    });
  const isRequest = m.id !== undefined && m.id !== null;
  // A malformed envelope first (-32602), then headers that disagree with the body (-32020), then a
  // version this server does not speak (-32022): a header naming a good version over a body naming
  // another is a mismatch, whatever the body's version is.
  let env: ReturnType<typeof readEnvelope> | undefined;
  if (isRequest || claimsModern(m)) {
    env = readEnvelope(m);
    if (isRefusal(env) && env.error.code !== UNSUPPORTED_VERSION) return failure(res, env.status, m.id, env.error);
  }
  const headers = checkHeaders(req.headers, m);
  if (headers) return failure(res, headers.status, m.id, headers.error);
  if (env && isRefusal(env)) return failure(res, env.status, m.id, env.error);
  if (!isRequest) {
    res.writeHead(202).end();
    return;
  }
  if (REMOVED_METHODS.has(m.method) || !KNOWN_METHODS.has(m.method)) {
    const r = methodNotFound(m.method);
    return failure(res, r.status, m.id, r.error);
  }
  const gate = missingTasksCapability(m.method, (env as Envelope).capabilities);
  if (gate) return failure(res, gate.status, m.id, gate.error);
  const server = o.open();
  if (!server) return;
  try {
    if (m.method === 'server/discover') {
      return send(res, 200, {
        jsonrpc: '2.0',
        id: m.id,
        result: discoverResult({
          capabilities: o.capabilities,
          instructions: server.instructions,
          server: o.server,
          tasks: !!server.taskRequest,
          cacheScope: 'private',
        }),
      });
    }
    if (m.method.startsWith('tasks/') && server.taskRequest) {
      try {
        return send(res, 200, {
          jsonrpc: '2.0',
          id: m.id,
          result: decorate(await server.taskRequest(m.method, m.params, o.principal), m.method, o.server),
        });
      } catch (e) {
        const error = {
          code: typeof (e as any).code === 'number' ? (e as any).code : -32603,
          message: (e as Error).message,
        };
        return failure(res, statusOf(error), m.id, error);
      }
    }
    const wantsStream =
      m.params?._meta?.progressToken !== undefined && String(req.headers.accept ?? '').includes('text/event-stream');
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    const transport = new RequestTransport(res, m.id as string | number, m.method, o.server, wantsStream, finish);
    // The client hanging up is its cancellation of this request.
    if (m.method === 'subscriptions/listen') trackListen(transport);
    res.on('close', () => {
      openListens.delete(transport);
      if (!transport.isAnswered)
        transport.onmessage?.({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: m.id, reason: 'the client closed the request' },
        });
      finish();
    });
    await server.connect(transport);
    transport.onmessage?.(m, { authInfo: o.authInfo });
    await finished;
  } finally {
    await server.close().catch(() => {});
  }
}
