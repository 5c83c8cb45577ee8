// The 2026-07-28 revision of MCP beside the 2025 era, as plain functions every transport shares.
// A request belongs to the new era when its params._meta names a protocol version
// (`io.modelcontextprotocol/protocolVersion`); it then carries the client's capabilities itself,
// needs no initialize and no session, and its results carry `resultType`. This module holds the
// parts that need nothing but JSON: telling the eras apart, checking the per-request envelope and
// the Streamable HTTP headers, server/discover's answer, and the fields new-era results add.
// It imports no SDK, so the stdio front can answer server/discover and tools/list with it.

export const MODERN_VERSIONS = ['2026-07-28'];
export const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
export const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Error codes the 2026-07-28 revision defines (beside JSON-RPC's own). */
export const HEADER_MISMATCH = -32020;
export const MISSING_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_VERSION = -32022;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}
/** A refusal before anything is dispatched, with the HTTP status it is sent with. */
export interface Refusal {
  status: number;
  error: RpcError;
}

export interface Envelope {
  version: string;
  capabilities: ClientCapabilities;
}
export interface ClientCapabilities {
  elicitation?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  [k: string]: unknown;
}

const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Whether a message claims the per-request envelope (and so the 2026-07-28 era). */
export function claimsModern(m: unknown): boolean {
  return isObject(m) && isObject(m.params) && isObject(m.params._meta) && VERSION_KEY in m.params._meta;
}

/** The envelope of a new-era request, or why it is refused (-32602 for a malformed one, -32022 for a version this server does not speak). */
export function readEnvelope(m: { params?: any }): Envelope | Refusal {
  const meta = m.params?._meta;
  const version = meta?.[VERSION_KEY];
  if (typeof version !== 'string' || !version)
    return {
      status: 400,
      error: { code: -32602, message: `Invalid params: _meta["${VERSION_KEY}"] must name a protocol version` },
    };
  if (!MODERN_VERSIONS.includes(version)) {
    return {
      status: 400,
      error: {
        code: UNSUPPORTED_VERSION,
        message: `Unsupported protocol version ${version}`,
        data: { supported: supportedVersions(), requested: version },
      },
    };
  }
  const capabilities = meta[CAPABILITIES_KEY];
  if (!isObject(capabilities))
    return {
      status: 400,
      error: {
        code: -32602,
        message: `Invalid params: _meta["${CAPABILITIES_KEY}"] is required (an empty object when the client supports nothing optional)`,
      },
    };
  return { version, capabilities };
}

export const isRefusal = (v: Envelope | Refusal): v is Refusal => 'error' in v;

/** The requests a 2026-07-28 client may send this server; any other is -32601 with HTTP 404. */
export const KNOWN_METHODS = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'subscriptions/listen',
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
]);

/** Methods of the 2025 era that the 2026-07-28 revision removed: answered -32601 (HTTP 404) before anything runs. */
export const REMOVED_METHODS = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);
export const methodNotFound = (method: string): Refusal => ({
  status: 404,
  error: {
    code: -32601,
    message: REMOVED_METHODS.has(method)
      ? `Method not found: ${method} is not part of protocol 2026-07-28${method === 'initialize' ? ' (call server/discover)' : ''}`
      : `Method not found: ${method}`,
  },
});

/** The tasks methods need the client to have declared the tasks extension in this very request (-32021 otherwise, HTTP 400). */
export function missingTasksCapability(method: string, capabilities: ClientCapabilities): Refusal | undefined {
  if (!method.startsWith('tasks/') || (capabilities.extensions && TASKS_EXTENSION in capabilities.extensions))
    return undefined;
  return {
    status: 400,
    error: {
      code: MISSING_CLIENT_CAPABILITY,
      message: `Missing required client capability: ${method} needs the ${TASKS_EXTENSION} extension in _meta["${CAPABILITIES_KEY}"].extensions`,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    },
  };
}

/** Every version the server speaks, new era first (the 2025 ones through initialize). */
export function supportedVersions(legacy: string[] = LEGACY_VERSIONS): string[] {
  return [...MODERN_VERSIONS, ...legacy];
}
/** Kept equal to stdio.ts's PROTOCOL_VERSIONS (a test checks it); repeated here so this module imports nothing. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];

/** Which of a method's params is mirrored in the Mcp-Name header. */
const NAMED: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/** A header value as sent, decoding the `=?base64?...?=` form the revision allows for values that are not plain ASCII. */
function headerValue(v: string): string | undefined {
  const m = /^=\?base64\?(.*)\?=$/.exec(v);
  if (!m) return v;
  try {
    return Buffer.from(m[1], 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The Streamable HTTP header rules for a new-era POST: `MCP-Protocol-Version` equal to the
 * envelope's version, `Mcp-Method` equal to the body's method, and for the methods that name
 * something `Mcp-Name` equal to that name. Requests must carry them; notifications are checked
 * only for what they carry. Any miss is 400 with -32020.
 */
export function checkHeaders(
  headers: Record<string, string | string[] | undefined>,
  m: { id?: unknown; method?: string; params?: any },
): Refusal | undefined {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const request = m.id !== undefined && m.id !== null;
  const mismatch = (message: string): Refusal => ({ status: 400, error: { code: HEADER_MISMATCH, message } });
  const version = one('mcp-protocol-version');
  const claimed = m.params?._meta?.[VERSION_KEY];
  if (version === undefined) {
    if (request) return mismatch('Header mismatch: the MCP-Protocol-Version header is required');
  } else if (version !== claimed)
    return mismatch(
      `Header mismatch: MCP-Protocol-Version "${version}" differs from the request's protocol version "${claimed}"`,
    );
  const method = one('mcp-method');
  if (method === undefined) {
    if (request) return mismatch('Header mismatch: the Mcp-Method header is required');
  } else if (method !== m.method)
    return mismatch(`Header mismatch: Mcp-Method "${method}" differs from the request's method "${m.method}"`);
  const key = m.method ? NAMED[m.method] : undefined;
  if (key) {
    const want = m.params?.[key];
    const sent = one('mcp-name');
    if (sent === undefined) {
      if (request) return mismatch(`Header mismatch: the Mcp-Name header is required for ${m.method}`);
    } else if (headerValue(sent) !== want)
      return mismatch(`Header mismatch: Mcp-Name "${sent}" differs from params.${key}`);
  }
  return undefined;
}

export interface Identity {
  name: string;
  version: string;
}

/** server/discover's result: versions, capabilities, instructions, and how long it may be cached. */
export function discoverResult(o: {
  capabilities: Record<string, unknown>;
  instructions?: string;
  server: Identity;
  tasks: boolean;
  cacheScope: 'public' | 'private';
}) {
  return decorate(
    {
      supportedVersions: supportedVersions(),
      capabilities: modernCapabilities(o.capabilities, o.tasks),
      ...(o.instructions ? { instructions: o.instructions } : {}),
    },
    'server/discover',
    o.server,
    o.cacheScope,
  );
}

/** The 2025 capabilities as the new era states them: no logging (deprecated); list changes and
 * resource subscriptions, which subscriptions/listen delivers; the tasks extension when served. */
export function modernCapabilities(caps: Record<string, unknown>, tasks: boolean): Record<string, unknown> {
  const { logging: _deprecated, ...rest } = caps as Record<string, any>;
  return { ...rest, ...(tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {}) };
}

/** How long list answers may be cached: they change only with the policy file, which also says so on a 2025 connection. */
export const LIST_TTL_MS = 60_000;
const CACHEABLE = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/**
 * A result as the new era sends it: `resultType` ("complete" unless the handler said otherwise),
 * the server's identity in `_meta`, and for cacheable answers `ttlMs` and `cacheScope` (reads of
 * live resources are never fresh; answers that depend on who asks are private).
 */
export function decorate(
  result: Record<string, any>,
  method: string,
  server: Identity,
  cacheScope: 'public' | 'private' = 'private',
): Record<string, any> {
  const out: Record<string, any> = {
    ...result,
    resultType: result.resultType ?? 'complete',
    _meta: { ...(result._meta ?? {}), [SERVER_INFO_KEY]: server },
  };
  if (out.resultType !== 'complete') {
    // An input_required or task result is no tool result: the SDK's defaulted empty content goes.
    if (Array.isArray(out.content) && out.content.length === 0) delete out.content;
  }
  if (CACHEABLE.has(method) && out.resultType === 'complete') {
    out.ttlMs ??= method === 'resources/read' ? 0 : LIST_TTL_MS;
    out.cacheScope ??= cacheScope;
  }
  return out;
}

/** The JSON text of tools/list's new-era answer, from the 2025 answer's text (the tools stay as generated, in registry order). */
export function modernToolsListJson(legacyJson: string, server: Identity, cacheScope: 'public' | 'private'): string {
  const tail = JSON.stringify({
    resultType: 'complete',
    ttlMs: LIST_TTL_MS,
    cacheScope,
    _meta: { [SERVER_INFO_KEY]: server },
  }).slice(1);
  return `${legacyJson.slice(0, -1)},${tail}`;
}
