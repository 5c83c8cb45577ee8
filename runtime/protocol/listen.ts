// subscriptions/listen of the 2026-07-28 era: one long-lived request over which the server sends
// the notifications the client opted in to (list changes, updates of named resources), each
// tagged with the listen request's id. It replaces the 2025 era's GET stream and
// resources/subscribe. The handler (run by the server like any request) acknowledges the filter
// it honours, joins the shared TrainJob watch for the resources named (see live-resources.ts: one
// watch however many listeners), and stays open until the client cancels or the server closes.
// The transports route the server's unsolicited notifications to the listens whose filter takes
// them (`ListenRoutes`), so nothing reaches a client that did not ask for it.

export const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';
export const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';
/** How many resources one listen may name (each is a string the server holds while it is open). */
export const MAX_RESOURCE_SUBSCRIPTIONS = 1000;

export interface SubscriptionFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

type Id = string | number;

/** A JSON-RPC error a handler throws: the SDK answers with its code. */
const invalid = (message: string) => Object.assign(new Error(`Invalid params: ${message}`), { code: -32602 });

/** The filter a listen request asks for, or a -32602 error naming what is wrong with it. */
export function parseFilter(params: unknown): SubscriptionFilter {
  const n = (params as { notifications?: unknown } | undefined)?.notifications;
  if (!n || typeof n !== 'object' || Array.isArray(n))
    throw invalid('subscriptions/listen needs params.notifications, an object naming the notifications wanted');
  const out: SubscriptionFilter = {};
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    const v = (n as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw invalid(`notifications.${key} must be a boolean`);
    if (v) out[key] = true;
  }
  const uris = (n as Record<string, unknown>).resourceSubscriptions;
  if (uris !== undefined) {
    if (!Array.isArray(uris) || uris.some((u) => typeof u !== 'string' || u.length > 1024))
      throw invalid('notifications.resourceSubscriptions must be an array of resource URIs');
    if (uris.length > MAX_RESOURCE_SUBSCRIPTIONS)
      throw invalid(
        `notifications.resourceSubscriptions names ${uris.length} resources; at most ${MAX_RESOURCE_SUBSCRIPTIONS} per listen`,
      );
    out.resourceSubscriptions = [...new Set(uris as string[])];
  }
  return out;
}

export interface ListenHost {
  /** The server's capabilities: only what it declares can be honoured. */
  capabilities: Record<string, any>;
  /** Joins the shared watch for a resource; rejects for one this caller may not watch. */
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): void;
  /** Resolves when the server closes (a graceful end of every listen). */
  closed: Promise<void>;
}

interface Extra {
  requestId: Id;
  signal: AbortSignal;
  sendNotification(n: { method: string; params?: Record<string, unknown> }): Promise<void>;
}

/**
 * Serves one subscriptions/listen request: acknowledges the part of the filter this server honours
 * (list changes it declares, trainjob:// resources this caller may read), holds the resource
 * subscriptions while the request is open, and answers (an empty result) when the server closes.
 */
export async function serveListen(params: unknown, extra: Extra, host: ListenHost): Promise<Record<string, unknown>> {
  const asked = parseFilter(params);
  const honored: SubscriptionFilter = {};
  if (asked.toolsListChanged && host.capabilities.tools?.listChanged) honored.toolsListChanged = true;
  if (asked.promptsListChanged && host.capabilities.prompts?.listChanged) honored.promptsListChanged = true;
  if (asked.resourcesListChanged && host.capabilities.resources?.listChanged) honored.resourcesListChanged = true;
  const joined: string[] = [];
  if (asked.resourceSubscriptions?.length && host.capabilities.resources?.subscribe) {
    for (const uri of asked.resourceSubscriptions) {
      if (extra.signal.aborted) break;
      // A resource this caller may not watch (another namespace, not a TrainJob) is left out of the acknowledgement.
      if (
        await host.subscribe(uri).then(
          () => true,
          () => false,
        )
      )
        joined.push(uri);
    }
    honored.resourceSubscriptions = joined;
  }
  try {
    await extra.sendNotification({ method: ACKNOWLEDGED, params: { notifications: honored } });
    await new Promise<void>((resolve) => {
      if (extra.signal.aborted) return resolve();
      extra.signal.addEventListener('abort', () => resolve(), { once: true });
      void host.closed.then(resolve);
    });
  } finally {
    for (const uri of joined) host.unsubscribe(uri);
  }
  return { _meta: { [SUBSCRIPTION_ID_KEY]: extra.requestId } };
}

/** Which filter key lets a notification through. */
function admits(filter: SubscriptionFilter, m: { method?: string; params?: any }): boolean {
  switch (m.method) {
    case 'notifications/tools/list_changed':
      return !!filter.toolsListChanged;
    case 'notifications/prompts/list_changed':
      return !!filter.promptsListChanged;
    case 'notifications/resources/list_changed':
      return !!filter.resourcesListChanged;
    case 'notifications/resources/updated':
      return !!filter.resourceSubscriptions?.includes(m.params?.uri);
    default:
      return false;
  }
}

/** A notification as a listen stream carries it: tagged with the listen's id. */
export function tagged<M extends { params?: any }>(m: M, id: Id): M {
  return { ...m, params: { ...(m.params ?? {}), _meta: { ...(m.params?._meta ?? {}), [SUBSCRIPTION_ID_KEY]: id } } };
}

/**
 * The open listens of one connection, learnt from the acknowledgements the handler sends (each
 * names its request and the filter honoured), and the copies of an unsolicited notification that
 * go to each listen whose filter takes it.
 */
export class ListenRoutes {
  private open = new Map<Id, SubscriptionFilter>();

  /** Called with every message the server sends, and the id of the request it belongs to (if any). */
  observe(m: { id?: Id | null; method?: string; params?: any }, related?: Id): void {
    if (m.method === ACKNOWLEDGED && related !== undefined) this.open.set(related, m.params?.notifications ?? {});
    else if (m.method === undefined && m.id !== undefined && m.id !== null) this.open.delete(m.id);
  }

  /** The listen went away without an answer (the client cancelled it). */
  drop(id: Id) {
    this.open.delete(id);
  }

  /** The copies of an unsolicited notification to send, one per listen that asked for it. */
  route<M extends { method?: string; params?: any }>(m: M): M[] {
    return [...this.open].filter(([, f]) => admits(f, m)).map(([id]) => tagged(m, id));
  }

  get size() {
    return this.open.size;
  }
}
