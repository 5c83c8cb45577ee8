// The view's side of the host: the tool's envelope from a result, what the server says the view may
// do (the result's _meta), and tool calls through the host.
import type { App } from '@modelcontextprotocol/ext-apps/app-with-deps';

export interface ViewMeta {
  view: string;
  tool: string;
  /** Mutating tools this caller may call from the view (none for a readonly persona). */
  actions: string[];
  /** Read tools the view may poll. */
  polls: string[];
  poll: { interval_ms: number; max_polls: number };
}

export const META_KEY = 'kubeflow-mcp/view';
const DEFAULT_POLL = { interval_ms: 5000, max_polls: 120 };

export type Envelope = Record<string, any>;

/** The envelope of a tools/call result: structuredContent, else the JSON of its first text block. */
export function envelopeOf(result: {
  structuredContent?: unknown;
  content?: Array<{ type: string; text?: string }>;
}): Envelope {
  if (result.structuredContent && typeof result.structuredContent === 'object')
    return result.structuredContent as Envelope;
  const text = result.content?.find((c) => c.type === 'text')?.text;
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { success: false, error: text ?? 'unreadable answer' };
  }
}

/** What the server allows; without its _meta the view offers nothing and polls nothing. */
export function metaOf(result: { _meta?: Record<string, unknown> }, fallbackTool: string): ViewMeta {
  const m = result._meta?.[META_KEY] as Partial<ViewMeta> | undefined;
  return {
    view: m?.view ?? '',
    tool: m?.tool ?? fallbackTool,
    actions: m?.actions ?? [],
    polls: m?.polls ?? [],
    poll: m?.poll ?? DEFAULT_POLL,
  };
}

export interface Ctx {
  app: App;
  tool: string;
  args: Record<string, unknown>;
  meta: ViewMeta;
  root: HTMLElement;
  /** Calls a server tool through the host and returns its envelope. */
  call(name: string, args: Record<string, unknown>): Promise<Envelope>;
  /** Runs `tick` every poll interval, at most max_polls times, until it returns false. */
  poll(tick: () => Promise<boolean>): void;
}

export function makeCtx(app: App, tool: string, args: Record<string, unknown>, meta: ViewMeta, root: HTMLElement): Ctx {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    app,
    tool,
    args,
    meta,
    root,
    async call(name, a) {
      try {
        return envelopeOf((await app.callServerTool({ name, arguments: a })) as any);
      } catch (e) {
        return { success: false, error: (e as Error).message };
      }
    },
    poll(tick) {
      if (timer) clearTimeout(timer);
      let n = 0;
      const next = () => {
        if (n >= meta.poll.max_polls) return;
        timer = setTimeout(async () => {
          n++;
          if (await tick().catch(() => false)) next();
        }, meta.poll.interval_ms);
      };
      next();
    },
  };
}
