// Model backends behind one interface: Ollama's /api/chat (tools, NDJSON streaming, think) and any
// OpenAI-compatible /v1/chat/completions (tools, SSE streaming). Each turns the agent's neutral
// messages into its wire format, streams thinking and text as they come, and collects tool calls.
// Every failure the person can act on (backend down, model missing, no tool support, bad key) is a
// BackendError whose message is one line.
import { defaultOf, environment, envText, type Env } from '../settings.ts';

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  invalidArguments?: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  thinking?: string;
  toolCalls?: ToolCall[];
  /** For role tool: the call it answers. */
  toolCallId?: string;
  toolName?: string;
}

export interface ToolDef {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools: ToolDef[];
  think: boolean;
  signal?: AbortSignal;
}

export interface StreamHandlers {
  onThinking?: (delta: string) => void;
  onText?: (delta: string) => void;
}

export interface Backend {
  readonly kind: 'ollama' | 'openai' | 'script';
  readonly label: string;
  readonly url: string;
  readonly model: string;
  /** Reachability and model checks before the first turn; returns notes worth a line each. */
  check(think: boolean): Promise<string[]>;
  chat(req: ChatRequest, handlers: StreamHandlers): Promise<ChatMessage>;
}

export class BackendError extends Error {
  override name = 'BackendError';
}

export const DEFAULT_MODELS = { ollama: 'qwen3:8b', openai: 'gpt-4o-mini' } as const;

/** OLLAMA_HOST as Ollama reads it: a bare host, host:port or a URL. */
export function ollamaUrl(env: Env = environment()): string {
  const h = envText('ollamaHost', env)?.trim();
  if (!h) return 'http://127.0.0.1:11434';
  const withScheme = /^https?:\/\//.test(h) ? h : `http://${h}`;
  const u = new URL(withScheme);
  if (!u.port && !/^https?:\/\/[^/]+:\d+/.test(withScheme)) u.port = u.protocol === 'https:' ? '443' : '11434';
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  return u.toString().replace(/\/$/, '');
}

export function chooseBackend(flag: string | undefined, env: Env = environment()): 'ollama' | 'openai' {
  if (flag !== undefined) {
    if (flag === 'ollama' || flag === 'openai') return flag;
    throw new BackendError(`unknown --backend "${flag}"; expected ollama or openai`);
  }
  return !envText('ollamaHost', env) && (envText('openaiBaseUrl', env) || envText('openaiApiKey', env))
    ? 'openai'
    : 'ollama';
}

export function makeBackend(
  opts: { backend?: string; model?: string; url?: string },
  env: Env = environment(),
): Backend {
  const kind = chooseBackend(opts.backend, env);
  const model = opts.model ?? DEFAULT_MODELS[kind];
  if (kind === 'ollama') return new OllamaBackend(trimSlash(opts.url ?? ollamaUrl(env)), model);
  return new OpenAIBackend(
    trimSlash(opts.url ?? envText('openaiBaseUrl', env) ?? defaultOf('openaiBaseUrl')),
    model,
    envText('openaiApiKey', env),
  );
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');
const oneLine = (s: string, max = 300) => s.replace(/\s+/g, ' ').trim().slice(0, max);

function isAbort(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError' || (e as any)?.code === 'ABORT_ERR';
}

/** fetch, with a network failure turned into one line naming the backend and what to do. */
async function post(
  label: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  advice: string,
  method = 'POST',
): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
      signal,
    });
  } catch (e) {
    if (isAbort(e)) throw e;
    const cause = (e as any)?.cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code;
    const why =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'unknown host'
          : code === 'ECONNRESET'
            ? 'connection reset'
            : code
              ? code
              : oneLine(cause?.message ?? (e as Error).message, 120);
    throw new BackendError(`cannot reach ${label} at ${new URL(url).origin} (${why}); ${advice}`);
  }
}

/** The error text of a failed response: its JSON error message if it has one. */
async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
    if (m) return oneLine(String(m));
  } catch {
    /* not JSON */
  }
  return oneLine(text) || res.statusText;
}

const NO_TOOLS =
  /does not support tools|tool[s]? (?:are |is )?not supported|tool choice|enable-auto-tool-choice|function calling is not|tools? param/i;
const NO_THINK = /does not support think|thinking is not supported|think.*not supported/i;

/** Reads a streamed body line by line (NDJSON and SSE are both line-based). */
async function* lines(res: Response): AsyncGenerator<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      yield buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
    }
  }
  buf += decoder.decode();
  if (buf) yield buf;
}

let callSeq = 0;
const newCallId = () => `call_${Date.now().toString(36)}_${++callSeq}`;

function parseArguments(raw: unknown): Pick<ToolCall, 'arguments' | 'invalidArguments'> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return { arguments: raw as Record<string, unknown> };
  if (raw === undefined || raw === null || raw === '') return { arguments: {} };
  try {
    const v = JSON.parse(String(raw));
    if (v && typeof v === 'object' && !Array.isArray(v)) return { arguments: v };
  } catch {
    /* below */
  }
  return { arguments: {}, invalidArguments: String(raw) };
}

export class OllamaBackend implements Backend {
  readonly kind = 'ollama' as const;
  readonly label = 'Ollama';
  private thinkRefused = false;
  constructor(
    readonly url: string,
    readonly model: string,
  ) {}

  private advice = 'start it with "ollama serve", or set --url or OLLAMA_HOST';

  async check(think: boolean): Promise<string[]> {
    const res = await post(
      this.label,
      `${this.url}/api/show`,
      { model: this.model },
      {},
      AbortSignal.timeout(10_000),
      this.advice,
    );
    if (res.status === 404)
      throw new BackendError(
        `model "${this.model}" is not on the Ollama at ${this.url}; pull it with: ollama pull ${this.model}`,
      );
    if (!res.ok) throw new BackendError(`Ollama at ${this.url} answered ${res.status}: ${await errorText(res)}`);
    const info: any = await res.json().catch(() => ({}));
    const caps: string[] | undefined = Array.isArray(info.capabilities) ? info.capabilities : undefined;
    if (caps && !caps.includes('tools')) throw this.noTools('its capabilities do not include tools');
    if (think && caps && !caps.includes('thinking')) {
      this.thinkRefused = true;
      return [`model "${this.model}" does not think; --thinking has no effect`];
    }
    return [];
  }

  private noTools(why: string) {
    return new BackendError(
      `model "${this.model}" cannot call tools (${why}); choose one that can, such as qwen3:8b or llama3.1:8b`,
    );
  }

  private wire(m: ChatMessage): object {
    if (m.role === 'assistant')
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls?.length
          ? { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      };
    if (m.role === 'tool') return { role: 'tool', content: m.content, tool_name: m.toolName };
    return { role: m.role, content: m.content };
  }

  async chat(req: ChatRequest, h: StreamHandlers): Promise<ChatMessage> {
    const think = req.think && !this.thinkRefused;
    const body = {
      model: this.model,
      messages: req.messages.map((m) => this.wire(m)),
      tools: req.tools.map((t) => ({ type: 'function', function: t })),
      stream: true,
      ...(think ? { think: true } : {}),
    };
    const res = await post(this.label, `${this.url}/api/chat`, body, {}, req.signal, this.advice);
    if (!res.ok) {
      const msg = await errorText(res);
      if (think && NO_THINK.test(msg)) {
        this.thinkRefused = true;
        return this.chat(req, h);
      }
      if (NO_TOOLS.test(msg)) throw this.noTools(msg);
      if (res.status === 404)
        throw new BackendError(
          `model "${this.model}" is not on the Ollama at ${this.url}; pull it with: ollama pull ${this.model}`,
        );
      throw new BackendError(`Ollama at ${this.url} answered ${res.status}: ${msg}`);
    }
    const out: ChatMessage = { role: 'assistant', content: '', toolCalls: [] };
    for await (const line of lines(res)) {
      if (!line.trim()) continue;
      let chunk: any;
      try {
        chunk = JSON.parse(line);
      } catch {
        throw new BackendError(`Ollama at ${this.url} streamed something that is not JSON: ${oneLine(line, 80)}`);
      }
      if (chunk.error) {
        const msg = oneLine(String(chunk.error));
        throw NO_TOOLS.test(msg) ? this.noTools(msg) : new BackendError(`Ollama: ${msg}`);
      }
      const m = chunk.message ?? {};
      if (m.thinking) {
        out.thinking = (out.thinking ?? '') + m.thinking;
        h.onThinking?.(m.thinking);
      }
      if (m.content) {
        out.content += m.content;
        h.onText?.(m.content);
      }
      for (const c of m.tool_calls ?? []) {
        out.toolCalls!.push({
          id: c.id ?? newCallId(),
          name: c.function?.name ?? '',
          ...parseArguments(c.function?.arguments),
        });
      }
      if (chunk.done) break;
    }
    return out;
  }
}

export class OpenAIBackend implements Backend {
  readonly kind = 'openai' as const;
  readonly label = 'the OpenAI-compatible API';
  constructor(
    readonly url: string,
    readonly model: string,
    private apiKey?: string,
  ) {}

  private advice = 'check --url or OPENAI_BASE_URL';
  private headers(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private refused(status: number, msg: string): BackendError {
    if (status === 401 || status === 403)
      return new BackendError(`${this.url} refused the request (${status}: ${msg}); set OPENAI_API_KEY to a valid key`);
    if (NO_TOOLS.test(msg))
      return new BackendError(
        `model "${this.model}" cannot call tools on ${this.url} (${msg}); choose a model or server setting with tool calling`,
      );
    if (status === 404)
      return new BackendError(
        `${this.url} has no model "${this.model}" or no /chat/completions (404: ${msg}); check --model and --url`,
      );
    return new BackendError(`${this.url} answered ${status}: ${msg}`);
  }

  async check(): Promise<string[]> {
    const res = await post(
      this.label,
      `${this.url}/models`,
      undefined,
      this.headers(),
      AbortSignal.timeout(10_000),
      this.advice,
      'GET',
    );
    if (res.status === 401 || res.status === 403) throw this.refused(res.status, await errorText(res));
    if (!res.ok) return [];
    const list: any = await res.json().catch(() => ({}));
    const ids: string[] = Array.isArray(list?.data) ? list.data.map((m: any) => m.id) : [];
    return ids.length && !ids.includes(this.model)
      ? [
          `${this.url} does not list model "${this.model}" (it lists ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''})`,
        ]
      : [];
  }

  private wire(m: ChatMessage): object {
    if (m.role === 'assistant') {
      return {
        role: 'assistant',
        content: m.content || (m.toolCalls?.length ? null : ''),
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: c.invalidArguments ?? JSON.stringify(c.arguments) },
              })),
            }
          : {}),
      };
    }
    if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    return { role: m.role, content: m.content };
  }

  async chat(req: ChatRequest, h: StreamHandlers): Promise<ChatMessage> {
    const body = {
      model: this.model,
      messages: req.messages.map((m) => this.wire(m)),
      ...(req.tools.length ? { tools: req.tools.map((t) => ({ type: 'function', function: t })) } : {}),
      stream: true,
    };
    const res = await post(this.label, `${this.url}/chat/completions`, body, this.headers(), req.signal, this.advice);
    if (!res.ok) throw this.refused(res.status, await errorText(res));
    const out: ChatMessage = { role: 'assistant', content: '' };
    const calls: { id?: string; name: string; args: string }[] = [];
    for await (const line of lines(res)) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') break;
      let chunk: any;
      try {
        chunk = JSON.parse(data);
      } catch {
        continue;
      }
      if (chunk.error) throw this.refused(0, oneLine(String(chunk.error.message ?? chunk.error)));
      const delta = chunk.choices?.[0]?.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning) {
        out.thinking = (out.thinking ?? '') + reasoning;
        if (req.think) h.onThinking?.(reasoning);
      }
      if (typeof delta.content === 'string' && delta.content) {
        out.content += delta.content;
        h.onText?.(delta.content);
      }
      for (const tc of delta.tool_calls ?? []) {
        const i = typeof tc.index === 'number' ? tc.index : calls.length;
        calls[i] ??= { name: '', args: '' };
        if (tc.id) calls[i].id = tc.id;
        if (tc.function?.name) calls[i].name += tc.function.name;
        if (tc.function?.arguments) calls[i].args += tc.function.arguments;
      }
    }
    const done = calls.filter(Boolean);
    if (done.length)
      out.toolCalls = done.map((c) => ({ id: c.id ?? newCallId(), name: c.name, ...parseArguments(c.args) }));
    return out;
  }
}
