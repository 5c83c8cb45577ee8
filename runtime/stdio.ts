// The stdio transport: newline-delimited JSON-RPC on stdin and stdout. It starts as a front desk
// that answers the first messages of a session (initialize, tools/list, ping) from precomputed
// data, so a client sees the tools before the MCP SDK and everything behind it has loaded; every
// other message waits in order. When the full server is ready it connects here like to any SDK
// transport: the front replays initialize (dropping the duplicate answer) and the waiting
// messages, and from then on passes everything through.
// A frame larger than the limit is answered with a JSON-RPC error instead of ending the process.
//
// Both protocol eras: the first request decides which one the connection speaks. initialize makes
// it a 2025 connection (as above); a request whose _meta names a 2026-07-28 protocol version makes
// it a new-era one, where every request carries its own capabilities and no initialize comes. The
// front then answers server/discover and tools/list itself too, checks each request's envelope,
// adds the fields new-era results carry (resultType, serverInfo, cache hints) to what the full
// server answers, routes the tasks methods to the task service, and keeps 2025-only notifications
// (list changes, resource updates, log records) off the connection.
import { ACKNOWLEDGED, ListenRoutes, tagged } from './protocol/listen.ts';
import {
  claimsModern,
  decorate,
  isRefusal,
  KNOWN_METHODS,
  methodNotFound,
  missingTasksCapability,
  modernToolsListJson,
  readEnvelope,
  REMOVED_METHODS,
  type Identity,
} from './protocol/era.ts';
import { envText } from './settings.ts';

/** Protocol versions the server speaks, newest first (checked against the SDK's list in a test). */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];

type Id = string | number;
export interface JsonRpc {
  jsonrpc: '2.0';
  id?: Id | null;
  method?: string;
  params?: any;
  result?: unknown;
  error?: unknown;
}

export interface FrontAnswers {
  /** initialize's result for a protocol version the server speaks. */
  initialize(protocolVersion: string): Record<string, unknown>;
  /** server/discover's result (2026-07-28). */
  discover?(): Record<string, unknown>;
  /** Who answers, as new-era results say. */
  server?: Identity;
  /** tools/list's result for a client with these capabilities, as JSON text (written as it is). */
  toolsList(capabilities?: unknown): string;
}

const DEFAULT_MAX_FRAME = 8 * 1024 * 1024;

export class StdioSession {
  // The SDK Transport interface: the server sets these when it connects.
  onmessage?: (m: JsonRpc) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;

  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private initialize?: JsonRpc;
  private initialized?: JsonRpc;
  private waiting: JsonRpc[] = [];
  private duplicateInitId?: Id | null;
  private handedOver = false;
  /** The era this connection speaks, once its first request has said. */
  era?: 'legacy' | 'modern';
  /** Ids of new-era requests the full server answers: their answers get the new-era fields. */
  private modernIds = new Map<Id, string>();
  /** Open subscriptions/listen requests of a new-era connection, and what each asked to hear. */
  private listens = new ListenRoutes();
  /** Answers tasks/get, tasks/update and tasks/cancel, once the full server is up. */
  taskRequest?: (method: string, params: Record<string, any> | undefined) => Promise<Record<string, unknown>>;

  /** Set by whenIdle: the wait for a quiet client, re-armed by every frame until the server is needed. */
  private idle?: { ms: number; fn: () => void; timer?: NodeJS.Timeout };
  private serverNeeded = false;
  private readonly needServer: () => void;

  constructor(
    private front: FrontAnswers,
    /** Called (once is enough; more calls are harmless) when the full server is needed. */
    needServer: () => void,
    private out: NodeJS.WritableStream = process.stdout,
    private maxFrame = Number(envText('maxRequestBytes') ?? DEFAULT_MAX_FRAME),
  ) {
    this.needServer = () => {
      if (!this.serverNeeded) {
        this.serverNeeded = true;
        clearTimeout(this.idle?.timer);
      }
      needServer();
    };
  }

  /**
   * Calls `fn` once the client has sent nothing for `ms`, each frame starting the wait again, unless
   * the full server was needed first: a client that never lists the tools still gets the full
   * server soon, and one still talking to the front (initialize or server/discover, then
   * tools/list, on a slow or busy machine) is not kept waiting behind its loading.
   */
  whenIdle(ms: number, fn: () => void) {
    this.idle = { ms, fn };
    this.rearm();
  }

  private rearm() {
    if (!this.idle || this.serverNeeded) return;
    clearTimeout(this.idle.timer);
    this.idle.timer = setTimeout(this.idle.fn, this.idle.ms);
    this.idle.timer.unref();
  }

  /** Reads stdin; `onEnd` runs when the client closes it. */
  listen(input: NodeJS.ReadableStream = process.stdin, onEnd: () => void = () => {}) {
    input.on('data', (d: Buffer) => this.take(d));
    input.on('end', onEnd);
  }

  // --- the SDK Transport interface ---
  async start() {}

  async send(m: JsonRpc, options?: { relatedRequestId?: Id }) {
    if (this.era === 'modern') {
      this.listens.observe(m, options?.relatedRequestId);
      if (m.method === ACKNOWLEDGED && options?.relatedRequestId !== undefined) {
        this.write(tagged(m, options.relatedRequestId));
        return;
      }
      // Unsolicited notifications go only to the listens that asked for them (subscriptions/listen).
      if (m.method !== undefined && m.id === undefined && m.method !== 'notifications/progress') {
        for (const copy of this.listens.route(m)) this.write(copy);
        return;
      }
      if (m.id !== undefined && m.id !== null && m.method === undefined && this.modernIds.has(m.id)) {
        const method = this.modernIds.get(m.id)!;
        this.modernIds.delete(m.id);
        if (m.result && typeof m.result === 'object')
          m = { ...m, result: decorate(m.result as Record<string, any>, method, this.identity()) };
      }
    }
    // The full server answers the replayed initialize too; the client already has an answer.
    if (this.duplicateInitId !== undefined && m.id === this.duplicateInitId && ('result' in m || 'error' in m)) {
      this.duplicateInitId = undefined;
      return;
    }
    this.write(m);
  }

  async close() {
    this.onclose?.();
  }

  /** After the full server connected: hand it the session so far, then step aside. */
  handOver() {
    if (!this.onmessage) throw new Error('handOver() before the server connected');
    if (this.initialize) this.duplicateInitId = this.initialize.id;
    const replay = [this.initialize, this.initialized, ...this.waiting].filter((m): m is JsonRpc => !!m);
    this.waiting = [];
    this.handedOver = true;
    for (const m of replay) {
      if (this.era === 'modern' && m.method?.startsWith('tasks/') && m.id !== undefined) void this.answerTask(m);
      else this.onmessage(m);
    }
  }

  private identity(): Identity {
    return this.front.server ?? { name: 'kubeflow-mcp', version: '0' };
  }

  /** A request or notification of a new-era connection. */
  private receiveModern(m: JsonRpc) {
    const isRequest = m.method !== undefined && m.id !== undefined && m.id !== null;
    if (isRequest) {
      const env = readEnvelope(m);
      if (isRefusal(env)) {
        this.write({ jsonrpc: '2.0', id: m.id, error: env.error });
        return;
      }
      if (REMOVED_METHODS.has(m.method!) || !KNOWN_METHODS.has(m.method!)) {
        this.write({ jsonrpc: '2.0', id: m.id, error: methodNotFound(m.method!).error });
        return;
      }
      const gate = missingTasksCapability(m.method!, env.capabilities);
      if (gate) {
        this.write({ jsonrpc: '2.0', id: m.id, error: gate.error });
        return;
      }
      if (m.method === 'server/discover') {
        this.write({ jsonrpc: '2.0', id: m.id, result: this.front.discover?.() ?? {} });
        return;
      }
      if (!this.handedOver && m.method === 'tools/list' && m.params?.cursor === undefined) {
        this.out.write(
          `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${modernToolsListJson(this.front.toolsList(env.capabilities), this.identity(), 'private')}}\n`,
        );
        this.needServer();
        return;
      }
      if (m.method!.startsWith('tasks/')) {
        if (this.handedOver) void this.answerTask(m);
        else {
          this.waiting.push(m);
          this.needServer();
        }
        return;
      }
      this.modernIds.set(m.id!, m.method!);
    } else if (m.method !== undefined && m.method !== 'notifications/cancelled') {
      return; // no notification but cancellation means anything to a new-era server
    } else if (m.method === 'notifications/cancelled') {
      this.listens.drop(m.params?.requestId);
    }
    if (this.handedOver) {
      this.onmessage!(m);
      return;
    }
    this.waiting.push(m);
    this.needServer();
  }

  private async answerTask(m: JsonRpc) {
    try {
      if (!this.taskRequest) throw Object.assign(new Error(`Method not found: ${m.method}`), { code: -32601 });
      this.write({
        jsonrpc: '2.0',
        id: m.id,
        result: decorate(await this.taskRequest(m.method!, m.params), m.method!, this.identity()),
      });
    } catch (e) {
      const code = typeof (e as any).code === 'number' ? (e as any).code : -32603;
      this.write({ jsonrpc: '2.0', id: m.id, error: { code, message: (e as Error).message } });
    }
  }

  /** Splits the input into lines without ever holding more than one frame's limit. */
  private take(d: Buffer) {
    let start = 0;
    for (let nl = d.indexOf(10, start); nl !== -1; nl = d.indexOf(10, start)) {
      this.append(d.subarray(start, nl));
      this.endFrame();
      start = nl + 1;
    }
    if (start < d.length) this.append(d.subarray(start));
  }

  private append(part: Buffer) {
    if (this.skipping) {
      this.pendingBytes += part.length;
      return;
    }
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxFrame) {
      this.skipping = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(part);
  }

  private endFrame() {
    this.rearm();
    const size = this.pendingBytes;
    const text = this.skipping ? undefined : Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
    this.pendingBytes = 0;
    if (this.skipping) {
      this.skipping = false;
      this.write({
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32600,
          message: `request of ${size} bytes is over the ${this.maxFrame}-byte limit (KUBEFLOW_MCP_MAX_REQUEST_BYTES); it was not read`,
        },
      });
      return;
    }
    if (!text!.trim()) return;
    let m: JsonRpc;
    try {
      m = JSON.parse(text!);
    } catch {
      this.write({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'parse error: a line of stdin is not JSON' },
      });
      return;
    }
    this.receive(m);
  }

  private receive(m: JsonRpc) {
    if (this.era === undefined && m.method !== undefined && m.id !== undefined)
      this.era = claimsModern(m) ? 'modern' : m.method === 'initialize' ? 'legacy' : undefined;
    if (this.era === 'modern') {
      this.receiveModern(m);
      return;
    }
    if (this.handedOver) {
      this.onmessage!(m);
      return;
    }
    // Connected but not yet handed over: the full server must see initialize first.
    if (this.onmessage) {
      this.waiting.push(m);
      return;
    }
    const p = m.params;
    if (
      m.method === 'initialize' &&
      m.id !== undefined &&
      !this.initialize &&
      typeof p?.protocolVersion === 'string' &&
      p.capabilities &&
      typeof p.capabilities === 'object' &&
      p.clientInfo &&
      typeof p.clientInfo === 'object'
    ) {
      this.initialize = m;
      const version = PROTOCOL_VERSIONS.includes(p.protocolVersion) ? p.protocolVersion : PROTOCOL_VERSIONS[0];
      this.write({ jsonrpc: '2.0', id: m.id, result: this.front.initialize(version) });
      return;
    }
    if (m.method === 'notifications/initialized' && this.initialize && !this.initialized) {
      this.initialized = m;
      return;
    }
    if (m.method === 'tools/list' && m.id !== undefined && this.initialize && p?.cursor === undefined) {
      this.out.write(
        `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${this.front.toolsList(this.initialize.params?.capabilities)}}\n`,
      );
      this.needServer();
      return;
    }
    if (m.method === 'ping' && m.id !== undefined) {
      this.write({ jsonrpc: '2.0', id: m.id, result: {} });
      return;
    }
    this.waiting.push(m);
    this.needServer();
  }

  private write(m: JsonRpc) {
    this.out.write(`${JSON.stringify(m)}\n`);
  }
}
