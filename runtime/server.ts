// Assembles the MCP server from the generated registry: tools filtered by persona and policy,
// the persona's instructions for the chosen tier, resources and prompts.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  McpError,
  ErrorCode,
  ListResourceTemplatesRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  CompleteRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { PERSONAS, TOOLS, type ToolDescriptor } from '../generated/index.ts';
import { guidesFor, promptsFor } from './references.ts';
import { LISTED_TOOLS } from '../generated/session.ts';
import type { PolicyFile } from './policy.ts';
import { CAPABILITIES, instructionsFor, SERVER_NAME, selectListed, toolsListJson } from './listing.ts';
import { runTool } from './pipeline.ts';
import type { Elicit, ServerState } from './context.ts';
import { HANDLERS } from './handlers/index.ts';
import { lazyRanker, metaToolsFor, runMetaTool, type Mode } from './modes/meta-tools.ts';
import { LiveResources, TEMPLATES } from './live-resources.ts';
import type { Kube } from './k8s/client.ts';
import { Ownership } from './auth/ownership.ts';
import type { Logger } from './logger.ts';
import type { RingBuffer } from './logger.ts';
import * as z from 'zod/v4';
import { CAPABILITIES_KEY, type ClientCapabilities } from './protocol/era.ts';
import { modernConfirmation, type ModernConfirmation } from './protocol/confirm.ts';
import { protocolKey, Signer } from './protocol/signing.ts';
import { TaskError, TaskService, type TaskHost } from './protocol/tasks.ts';
import { linkTools, wantsViews } from './views/links.ts';
import { readView, viewResources } from './views/resources.ts';
import { chartImage, chartImagesFrom, viewMeta } from './views/results.ts';
import { serveListen } from './protocol/listen.ts';
import { environment, envText, type Env } from './settings.ts';
import { systemClock, type Clock } from './clock.ts';
import { limiterFromEnv, type RateLimiter } from './rate-limit.ts';

/** subscriptions/listen, which the 1.x SDK does not know: its filter is checked by protocol/listen.ts. */
const ListenRequestSchema = z.object({ method: z.literal('subscriptions/listen'), params: z.unknown().optional() });
/** tools/call as the SDK declares it, but with arguments of any shape, so that a non-object is
 * answered with JSON-RPC -32602 (invalid params) instead of an internal error. */
const CallToolAnyArgs = CallToolRequestSchema.extend({
  params: CallToolRequestSchema.shape.params.extend({
    arguments: z.unknown().optional(),
    inputResponses: z.unknown().optional(),
    requestState: z.unknown().optional(),
  }),
});

export interface ServerOptions {
  persona: string;
  mode?: Mode;
  tier: 'full' | 'compact' | 'minimal';
  clients: string[];
  policy: PolicyFile;
  kube: Kube;
  log: Logger;
  ring: RingBuffer;
  version: string;
  /** Shared by every session of a process; made from `kube` when not given. */
  ownership?: Ownership;
  /** Time for polls, waits and expiries; the system clock when not given. */
  clock?: Clock;
  /** Per-caller call rate; the one the environment sets when not given. */
  limiter?: RateLimiter;
  /** Act as this caller towards Kubernetes (impersonation), in every context. */
  impersonate?: { user: string; groups: string[] };
  /** One of many callers of a shared (HTTP) server: its log notifications carry only its own records. */
  shared?: boolean;
  /** The authenticated subject of a shared server's caller. */
  principal?: string;
  /** What rate limits count by when the caller is not authenticated (the client's address). */
  rateKey?: string;
  /** Which protocol era the connection speaks (2026-07-28 requests carry their capabilities in _meta). */
  era?: () => 'legacy' | 'modern';
  /** Signs what comes back from clients (task ids, confirmation state); made from the ownership key when not given. */
  signer?: Signer;
}

/**
 * What every session with the same tools shares rather than rebuilds: tools/list as objects, the
 * instructions, the guides and the tool-search index depend only on the tools (and mode, tier and
 * contexts shown), so a server with many sessions holds one copy per distinct set. Bounded: the
 * oldest set is forgotten beyond 64 (a policy reload or many personas make more).
 */
const sharedSets = new Map<string, unknown>();
function sharedBy<T>(key: string, make: () => T): T {
  if (sharedSets.has(key)) return sharedSets.get(key) as T;
  const v = make();
  sharedSets.set(key, v);
  if (sharedSets.size > 64) sharedSets.delete(sharedSets.keys().next().value!);
  return v;
}
const namesKey = (names: Iterable<string>) => [...names].sort().join(',');

/** The full descriptors of the tools this persona may call (see selectListed). */
export function selectTools(o: Pick<ServerOptions, 'persona' | 'clients' | 'policy'>): ToolDescriptor<any>[] {
  const names = new Set(selectListed(o).map((t) => t.name));
  return TOOLS.filter((t) => names.has(t.name));
}

/** Without an authenticated caller, jobs belong to the server's own identity. */
export function localOwnerOf(kube: Kube, env: Env = environment()): () => Promise<string> {
  let owner: Promise<string> | undefined;
  return () =>
    (owner ??= envText('owner', env)
      ? Promise.resolve(envText('owner', env)!)
      : kube.userName().then(
          (u) => `kubeconfig:${u}`,
          () => 'kubeconfig:unknown',
        ));
}

export function buildServer(o: ServerOptions) {
  const tools = selectTools(o);
  const as = (k: Kube) => (o.impersonate ? k.impersonating(o.impersonate.user, o.impersonate.groups) : k);
  const state: ServerState = {
    kube: as(o.kube),
    kubeFor: (context) => as(o.kube.forContext(context)),
    persona: o.persona, // Only the built-in admin persona bypasses; a policy-file persona may not borrow its name.
    bypassOwnership: !o.policy.personas?.[o.persona] && !!PERSONAS[o.persona]?.bypassOwnership,
    policy: o.policy,
    log: o.log,
    ring: o.ring,
    clock: o.clock ?? systemClock,
    limiter: o.limiter ?? limiterFromEnv(),
    startedAt: (o.clock ?? systemClock).now(),
    version: o.version,
    tools: new Map(tools.map((t) => [t.name, t])),
    allTools: TOOLS,
    ownership: o.ownership ?? new Ownership(o.kube),
    localOwner: localOwnerOf(o.kube),
    handlers: HANDLERS,
  };
  const visible = new Set(tools.map((t) => t.name));
  // Assembled for exactly the tools this caller can call (built-in or policy persona, after policy).
  const mode = o.mode ?? 'full';
  const meta = metaToolsFor(mode);
  const instructions = sharedBy(`instructions\u0000${mode}\u0000${o.tier}\u0000${namesKey(visible)}`, () =>
    instructionsFor(visible, mode, o.tier),
  );
  const server = new Server({ name: SERVER_NAME, version: o.version }, { capabilities: CAPABILITIES, instructions });
  // Exactly what the start-up path sent, from the same generated text (parsed once per distinct text).
  const listing = (ts: ToolDescriptor<any>[]) => {
    const json = toolsListJson(
      LISTED_TOOLS.filter((l) => ts.some((t) => t.name === l.name)),
      mode,
      state.policy,
    );
    return sharedBy(`tools/list\u0000${json}`, () => JSON.parse(json).tools);
  };
  let listed = listing(tools);
  // One tool-search index per tool set, whichever session asks first builds it.
  const rankerOf = () =>
    sharedBy(`ranker\u0000${namesKey(state.tools.keys())}`, () =>
      lazyRanker({ tools: new Map(state.tools) } as ServerState),
    );
  let ranker = rankerOf();
  // MCP Apps: a client that declares the extension gets the tools linked to their views (see views/).
  const capsOf = (req: { params?: any }): unknown =>
    o.era?.() === 'modern' ? req.params?._meta?.[CAPABILITIES_KEY] : server.getClientCapabilities();
  const images = chartImagesFrom();
  server.setRequestHandler(ListToolsRequestSchema, async (req) => ({
    tools: wantsViews(capsOf(req)) ? linkTools(listed) : listed,
  }));
  // MCP logging: after logging/setLevel the server's own (masked) log records go to the client.
  const MCP_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
  const fromOurs: Record<string, string> = {
    DEBUG: 'debug',
    INFO: 'info',
    WARNING: 'warning',
    ERROR: 'error',
    CRITICAL: 'critical',
  };
  let clientLevel: string | undefined;
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    clientLevel = req.params.level;
    return {};
  });
  // On a shared server a caller hears only of its own calls (as get_server_logs shows them), unless
  // it may see everything (platform-admin).
  const ownRecord = (r: Record<string, unknown>) =>
    !o.shared ||
    state.bypassOwnership ||
    (r.caller !== undefined &&
      r.caller ===
        (o.principal ?? (server.transport?.sessionId ? `session:${server.transport.sessionId}` : undefined)));
  const stopListening = o.ring.listen((r) => {
    const level = fromOurs[r.level] ?? 'info';
    if (!clientLevel || MCP_LEVELS.indexOf(level) < MCP_LEVELS.indexOf(clientLevel)) return;
    if (!ownRecord(r)) return;
    const { timestamp, level: _l, logger, message, ...rest } = r;
    void server
      .sendLoggingMessage({ level: level as any, logger, data: { message, timestamp, ...rest } })
      .catch(() => {});
  });
  server.setRequestHandler(CallToolAnyArgs, async (req, extra) => {
    const args = req.params.arguments;
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `tools/call: arguments must be an object, not ${args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args}`,
      );
    }
    const token = req.params._meta?.progressToken;
    const progress = async (p: number, total: number | undefined, message: string) => {
      if (token === undefined) return;
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: p, ...(total !== undefined ? { total } : {}), message },
      });
    };
    const principal = extra.authInfo?.clientId;
    const caller = principal ?? (extra.sessionId ? `session:${extra.sessionId}` : undefined);
    // Mutating tools ask the user themselves when the client can show a form (MCP elicitation): on
    // a 2025 connection by asking it, in the 2026-07-28 era by answering input_required.
    let elicit: Elicit | undefined;
    let confirmation: ModernConfirmation | undefined;
    if (o.era?.() === 'modern') {
      const capabilities = ((req.params._meta as Record<string, unknown> | undefined)?.[CAPABILITIES_KEY] ??
        {}) as ClientCapabilities;
      if (!meta.length && TaskService.applies(req.params.name, capabilities)) {
        const started = await startTask(req.params.name, args, principal);
        if (started) return started as any;
      }
      if (capabilities.elicitation) {
        confirmation = modernConfirmation(signer, {
          tool: req.params.name,
          args,
          caller: principal ?? 'anonymous',
          inputResponses: req.params.inputResponses,
          requestState: req.params.requestState,
          now: () => state.clock.now(),
        });
        elicit = confirmation.elicit;
      }
    } else if (server.getClientCapabilities()?.elicitation) {
      elicit = async (message, schema) =>
        server.elicitInput({ message, requestedSchema: schema as any }, { signal: extra.signal }) as any;
    }
    const extras = {
      signal: extra.signal,
      progress,
      caller,
      principal,
      elicit,
      rateKey: principal ? undefined : o.rateKey,
    };
    if (meta.length) {
      if (!meta.some((m) => m.name === req.params.name))
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown tool ${req.params.name}: in ${mode} mode call ${meta.map((m) => m.name).join(', ')}`,
        );
      const result = await runMetaTool(state, req.params.name, (args ?? {}) as Record<string, unknown>, extras, () =>
        ranker(),
      );
      return (
        (confirmation?.pending() as any) ?? {
          content: [{ type: 'text', text: JSON.stringify(result) }],
          isError: result.success !== true,
        }
      );
    }
    const result = await runTool(state, req.params.name, args, extras);
    // The call stopped to ask the user (2026-07-28): the question goes back instead of the preview.
    const asked = confirmation?.pending();
    if (asked) return asked as any;
    // structuredContent conforms to the tool's outputSchema; the text stays for text-only clients.
    const ui = wantsViews(capsOf(req)) ? viewMeta(state, req.params.name) : undefined;
    const image =
      !wantsViews(capsOf(req)) && images === 'svg'
        ? await chartImage(state, req.params.name, (args ?? {}) as Record<string, any>, result).catch(() => undefined)
        : undefined;
    return {
      content: [{ type: 'text', text: JSON.stringify(result) }, ...(image ? [image] : [])],
      structuredContent: result,
      isError: result.success !== true,
      ...(ui ? { _meta: ui } : {}),
    };
  });
  // A module's guide is served only with the module, and each guide as this caller's tools allow
  // (reassembled when the policy changes them).
  const guides = () =>
    sharedBy(`guides\u0000${namesKey(state.tools.keys())}`, () =>
      guidesFor(new Set(state.tools.keys()), state.tools.values()),
    );
  let resources = guides();
  server.setRequestHandler(ListResourcesRequestSchema, async (req) => ({
    resources: [
      ...resources.map((r) => ({ uri: r.uri, name: r.name, description: r.description, mimeType: 'text/markdown' })),
      ...(wantsViews(capsOf(req)) ? viewResources(new Set(state.tools.keys())) : []),
    ],
  }));
  const live = new LiveResources(state, (uri) => server.sendResourceUpdated({ uri }));
  // Long waits as tasks (2026-07-28 clients that declare the extension): see protocol/tasks.ts.
  const signer = o.signer ?? new Signer(protocolKey(state.ownership));
  const tasks = new TaskService(signer, () => state.clock.now());
  const toolResult = (r: Record<string, any>) => ({
    content: [{ type: 'text', text: JSON.stringify(r) }],
    structuredContent: r,
    isError: r.success !== true,
  });
  const taskHost = (principal: string | undefined): TaskHost => ({
    run: (tool, args) =>
      runTool(state, tool, args, { caller: principal, principal, rateKey: principal ? undefined : o.rateKey }),
    progress: async (ns, name) => {
      const r = await live.read(`trainjob://${ns}/${name}`);
      return r ? JSON.parse(r.text).metrics : undefined;
    },
    annotations: async (resource, ns, name) => (await state.kube.get(resource, name, ns)).metadata?.annotations ?? {},
    // The note goes on with the server's own identity: a caller who may only read the job may still stop waiting for it.
    annotate: async (resource, ns, name, annotations) => {
      await o.kube.patch(resource, name, { metadata: { annotations } }, ns);
    },
    toolResult,
  });
  /** A wait as a task, when its arguments are valid (an invalid call is answered as usual, by the pipeline). */
  async function startTask(name: string, args: unknown, principal: string | undefined) {
    const tool = state.tools.get(name);
    if (!tool || !args || typeof args !== 'object' || Array.isArray(args)) return undefined;
    const input = structuredClone(args) as Record<string, any>;
    const validate = await tool.validator();
    if (!validate(input)) return undefined;
    const ns = input.namespace ?? (await state.kube.defaultNamespace().catch(() => 'default'));
    return tasks.create(taskHost(principal), name, input, ns, principal ?? 'anonymous');
  }
  /** tasks/get, tasks/update and tasks/cancel of the 2026-07-28 era (answered beside the SDK's server, which serves no tasks). */
  const taskRequest = async (
    method: string,
    params: Record<string, any> | undefined,
    principal?: string,
  ): Promise<Record<string, unknown>> => {
    const host = taskHost(principal);
    const who = principal ?? 'anonymous';
    if (method === 'tasks/get') return tasks.get(host, params?.taskId, who);
    if (method === 'tasks/cancel') return tasks.cancel(host, params?.taskId, who);
    if (method === 'tasks/update') return tasks.update(host, params?.taskId, who);
    throw new TaskError(-32601, `Method not found: ${method}`);
  };
  // subscriptions/listen (2026-07-28): list changes and trainjob:// updates over one open request, from the shared watch.
  let serverClosed!: () => void;
  const closed = new Promise<void>((r) => {
    serverClosed = r;
  });
  server.setRequestHandler(
    ListenRequestSchema,
    (req, extra) =>
      serveListen(req.params, extra, {
        capabilities: CAPABILITIES,
        subscribe: (uri) => live.join(uri),
        unsubscribe: (uri) => live.leave(uri),
        closed,
      }) as any,
  );
  server.onclose = () => {
    live.close();
    stopListening();
    serverClosed();
  };
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: TEMPLATES }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    if (req.params.uri.startsWith('ui://')) {
      const view = (() => {
        try {
          return readView(req.params.uri);
        } catch (e) {
          throw new McpError(ErrorCode.InternalError, (e as Error).message);
        }
      })();
      if (view) return view;
    }
    const r = resources.find((x) => x.uri === req.params.uri);
    if (r) return { contents: [{ uri: r.uri, mimeType: 'text/markdown', text: r.text }] };
    const job = await live.read(req.params.uri).catch((e) => {
      throw new McpError(ErrorCode.InvalidParams, (e as Error).message);
    });
    if (!job)
      throw new McpError(ErrorCode.InvalidParams, `Unknown resource ${req.params.uri}`, { uri: req.params.uri });
    return { contents: [{ uri: req.params.uri, ...job }] };
  });
  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    await live.subscribe(req.params.uri).catch((e) => {
      throw new McpError(ErrorCode.InvalidParams, (e as Error).message);
    });
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    live.unsubscribe(req.params.uri);
    return {};
  });
  // A prompt is offered only when the caller can call every tool it names.
  let prompts = promptsFor(new Set(state.tools.keys()));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: prompts.map(({ text, tools: _tools, ...p }) => ({
      ...p,
      arguments: p.arguments.map(({ complete, ...a }) => a),
    })),
  }));
  server.setRequestHandler(CompleteRequestSchema, async (req) => {
    const { ref, argument } = req.params;
    const context = (req.params as any).context?.arguments ?? {};
    let kind: string | undefined;
    if (ref.type === 'ref/prompt')
      kind = prompts
        .find((p) => p.name === (ref as any).name)
        ?.arguments.find((a) => a.name === argument.name)?.complete;
    else if (ref.type === 'ref/resource' && String((ref as any).uri).startsWith('trainjob://'))
      kind = argument.name === 'namespace' ? 'namespaces' : argument.name === 'name' ? 'jobs' : undefined;
    const values = await live.complete(kind, argument.value, context.namespace);
    return { completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 } };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const p = prompts.find((x) => x.name === req.params.name);
    if (!p) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt ${req.params.name}`);
    const args = req.params.arguments ?? {};
    for (const a of p.arguments)
      if (a.required && !args[a.name])
        throw new McpError(ErrorCode.InvalidParams, `Missing required argument ${a.name}`);
    const text = p.text.replace(/\{\{(\w+)\}\}/g, (_m, k) => String(args[k] ?? ''));
    return { description: p.description, messages: [{ role: 'user', content: { type: 'text', text } }] };
  });
  /** A changed policy file: the tools, guard bypass and namespace policy change in place, and the
   * client is told to list the tools again. */
  const reloadPolicy = async (policy: PolicyFile) => {
    const next = selectTools({ ...o, policy });
    state.policy = policy;
    state.bypassOwnership = !policy.personas?.[o.persona] && !!PERSONAS[o.persona]?.bypassOwnership;
    state.tools.clear();
    for (const t of next) state.tools.set(t.name, t);
    listed = listing(next);
    resources = guides();
    prompts = promptsFor(new Set(state.tools.keys()));
    ranker = rankerOf();
    await server.sendToolListChanged().catch(() => {});
    return next;
  };
  return { server, state, tools, reloadPolicy, taskRequest, instructions };
}
