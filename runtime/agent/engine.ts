// One conversation: the model's turns, the tool calls it asks for, and the person's decisions.
// Every call of a tool that previews goes to the server without confirmed (whatever the model set);
// a preview is shown to the person, and only their yes sends the same call with confirmed=true.
// A Ctrl-C aborts the signal of the turn: the backend request or the MCP call (the SDK sends
// notifications/cancelled), and the model hears next time that the call was cancelled.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Backend, ChatMessage, ToolCall, ToolDef } from './backends.ts';
import { capToolResult, fitBudget, toolsTokens } from './context.ts';
import type { CallOutcome, McpSession, Progress } from './mcp.ts';
import { formatCall, isPreview, maskSecrets, summarize } from './render.ts';

/** What the chat shows; the terminal and the demo implement it. */
export interface AgentUI {
  thinking(delta: string): void;
  text(delta: string): void;
  /** The model's message has ended (close the streamed line). */
  endMessage(): void;
  toolCall(line: string, note?: string): void;
  toolResult(ok: boolean, lines: string[]): void;
  preview(envelope: any): void;
  /** Asks the person; resolves true only on their yes. */
  confirm(question: string, signal: AbortSignal): Promise<boolean>;
  progress(p: Progress): void;
  progressDone(): void;
  notice(line: string): void;
}

export class Cancelled extends Error {
  override name = 'Cancelled';
}

export interface TranscriptEntry {
  kind: 'user' | 'assistant' | 'thinking' | 'call' | 'result' | 'preview' | 'decision' | 'notice';
  text: string;
  data?: unknown;
}

const AGENT_NOTES = `
YOU ARE IN A TERMINAL CHAT. A person types requests; you act through the tools above.
- Do the work with tool calls instead of describing them; run planning steps (pre_flight, list_runtimes, get_runtime) one after another without asking.
- A tool that creates, changes or deletes something: call it once without confirmed. The chat shows its preview to the person and asks them; you then get either the result of the real call (they approved) or a note that they declined. Never ask them to type confirmed=true, and never call the same tool again to confirm.
- A file the person attached with /file is named @file:NAME; pass that exact string as an argument (for example script="@file:train.py") and the chat puts the file's text in its place.
- Report only what the tool results say; be brief.`;

const MAX_ROUNDS = 24;

export interface AgentOptions {
  think: boolean;
  contextTokens: number;
}

function isAbortError(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError' || (e as any)?.code === 'ABORT_ERR';
}

export class Agent {
  history: ChatMessage[] = [];
  transcript: TranscriptEntry[] = [];
  files = new Map<string, string>();
  private pendingFiles: string[] = [];
  think: boolean;
  contextTokens: number;

  constructor(
    public session: McpSession,
    public backend: Backend,
    public ui: AgentUI,
    opts: AgentOptions,
  ) {
    this.think = opts.think;
    this.contextTokens = opts.contextTokens;
  }

  systemPrompt(): string {
    return `${this.session.instructions.trim()}\n${AGENT_NOTES}`.trim();
  }

  toolDefs(): ToolDef[] {
    return this.session.tools.map((t) => ({
      name: t.name,
      description: t.description ?? '',
      parameters: t.inputSchema as Record<string, unknown>,
    }));
  }

  clear(): void {
    this.history = [];
    this.pendingFiles = [];
    this.transcript.push({ kind: 'notice', text: 'history cleared' });
  }

  /** Attaches a file for the next message; returns its name and line count. */
  attach(path: string): { name: string; lines: number } {
    const text = readFileSync(path, 'utf8');
    let name = basename(path);
    for (let i = 2; this.files.has(name) && this.files.get(name) !== text; i++) name = `${i}-${basename(path)}`;
    this.files.set(name, text);
    this.pendingFiles.push(name);
    this.transcript.push({ kind: 'notice', text: `attached ${name}` });
    return { name, lines: text.split('\n').length };
  }

  private withAttachments(text: string): string {
    if (!this.pendingFiles.length) return text;
    const parts = this.pendingFiles.map((n) => {
      const body = this.files.get(n)!;
      const shown =
        body.length > 12_000 ? `${body.slice(0, 12_000)}\n[... ${body.length - 12_000} more characters]` : body;
      return `Attached file @file:${n} (${body.split('\n').length} lines):\n\`\`\`\n${shown}\n\`\`\``;
    });
    this.pendingFiles = [];
    return `${text}\n\n${parts.join('\n\n')}`;
  }

  /** One request of the person, to the model's final answer (or a Cancelled). */
  async turn(userText: string, signal: AbortSignal): Promise<void> {
    this.transcript.push({ kind: 'user', text: userText });
    this.history.push({ role: 'user', content: this.withAttachments(userText) });
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const tools = this.toolDefs();
      const fitted = fitBudget(
        [{ role: 'system', content: this.systemPrompt() }, ...this.history],
        this.contextTokens,
        toolsTokens(tools) + 1024,
      );
      if (fitted.trimmedResults || fitted.droppedMessages) {
        this.ui.notice(
          `context budget: ${fitted.trimmedResults} old tool result(s) trimmed${fitted.droppedMessages ? `, ${fitted.droppedMessages} old message(s) left out` : ''}`,
        );
      }
      let reply: ChatMessage;
      try {
        reply = await this.backend.chat(
          { messages: fitted.messages, tools, think: this.think, signal },
          {
            onThinking: (d) => this.ui.thinking(d),
            onText: (d) => this.ui.text(d),
          },
        );
      } catch (e) {
        this.ui.endMessage();
        if (signal.aborted || isAbortError(e)) throw new Cancelled("the model's answer was cancelled");
        throw e;
      }
      this.ui.endMessage();
      if (reply.thinking) this.transcript.push({ kind: 'thinking', text: reply.thinking });
      if (reply.content.trim()) this.transcript.push({ kind: 'assistant', text: reply.content });
      this.history.push(reply);
      const calls = reply.toolCalls ?? [];
      if (!calls.length) return;
      for (let i = 0; i < calls.length; i++) {
        let content: string;
        try {
          content = await this.runTool(calls[i], signal);
        } catch (e) {
          if (!(e instanceof Cancelled) && !signal.aborted && !isAbortError(e)) throw e;
          // Every call of the message gets an answer, so the history stays valid for the next turn.
          for (const c of calls.slice(i))
            this.history.push({
              role: 'tool',
              toolCallId: c.id,
              toolName: c.name,
              content: JSON.stringify({
                success: false,
                status: 'cancelled',
                message: 'The person cancelled this call (Ctrl-C) before it finished; ask before running it again.',
              }),
            });
          this.transcript.push({ kind: 'notice', text: `${calls[i].name} cancelled` });
          throw e instanceof Cancelled ? e : new Cancelled(`${calls[i].name} cancelled`);
        }
        this.history.push({
          role: 'tool',
          toolCallId: calls[i].id,
          toolName: calls[i].name,
          content: capToolResult(content, this.contextTokens),
        });
      }
    }
    this.ui.notice(`stopped after ${MAX_ROUNDS} model rounds in one request`);
  }

  /** @file:NAME strings replaced by the attached file's text. */
  private substituteFiles(v: unknown): unknown {
    if (typeof v === 'string') {
      const m = v.match(/^@file:(.+)$/);
      return m && this.files.has(m[1].trim()) ? this.files.get(m[1].trim()) : v;
    }
    if (Array.isArray(v)) return v.map((x) => this.substituteFiles(x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.substituteFiles(x)]));
    return v;
  }

  private async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallOutcome> {
    try {
      return await this.session.call(name, args, { signal, onProgress: (p) => this.ui.progress(p) });
    } catch (e) {
      // A protocol error (an unknown tool, arguments the server refuses) is the model's to read;
      // a cancellation or a server that has gone away ends the request.
      if (signal.aborted || isAbortError(e) || /Connection closed|not running/i.test(String((e as Error)?.message)))
        throw e;
      const error = String((e as Error)?.message ?? e).split('\n')[0];
      return { text: JSON.stringify({ success: false, error }), envelope: { success: false, error }, isError: true };
    } finally {
      this.ui.progressDone();
    }
  }

  private async runTool(call: ToolCall, signal: AbortSignal): Promise<string> {
    if (call.invalidArguments !== undefined) {
      this.ui.toolCall(`${call.name}(<arguments that are not JSON>)`);
      this.ui.toolResult(false, ['the model sent arguments that are not a JSON object']);
      return JSON.stringify({
        success: false,
        error: `The arguments of ${call.name} were not a JSON object: ${call.invalidArguments.slice(0, 200)}`,
      });
    }
    const { args, modelConfirmed } = withoutConfirmed(
      call.name,
      this.substituteFiles(call.arguments) as Record<string, unknown>,
    );
    const shown = withoutConfirmed(call.name, call.arguments).args;
    const line = formatCall(call.name, shown);
    this.ui.toolCall(
      line,
      modelConfirmed ? 'the model set confirmed=true; the server previews first and you decide' : undefined,
    );
    this.transcript.push({ kind: 'call', text: line, data: maskSecrets(shown) });
    const first = await this.call(call.name, args, signal);
    if (!isPreview(first.envelope)) return this.report(first);

    this.ui.preview(first.envelope);
    this.transcript.push({
      kind: 'preview',
      text: String(first.envelope.message ?? 'preview'),
      data: maskSecrets(first.envelope.config),
    });
    const yes = await this.ui.confirm('Go ahead? [y/N] ', signal);
    if (signal.aborted) throw new Cancelled('cancelled at the question');
    this.transcript.push({ kind: 'decision', text: yes ? 'yes' : 'no' });
    if (!yes) {
      const declined = {
        success: false,
        status: 'declined',
        message: `The person declined this ${call.name} preview; nothing was created or changed. Ask them what to change.`,
      };
      this.ui.toolResult(false, ['declined; nothing was created or changed']);
      return JSON.stringify(declined);
    }
    const confirmedArgs = withConfirmed(call.name, args);
    const again = `${call.name}(the previewed arguments, confirmed=true)`;
    this.ui.toolCall(again);
    this.transcript.push({ kind: 'call', text: again });
    const done = await this.call(call.name, confirmedArgs, signal);
    const text = this.report(done);
    return `The person approved the preview, so the chat made the call with confirmed=true. Its result: ${text}`;
  }

  private report(o: CallOutcome): string {
    const s = summarize(o.envelope, o.text, o.isError);
    this.ui.toolResult(s.ok, s.lines);
    this.transcript.push({ kind: 'result', text: s.lines.join('\n') });
    return o.text;
  }
}

/** The arguments without confirmed (also inside execute_tool's arguments), and whether the model set it. */
export function withoutConfirmed(
  name: string,
  args: Record<string, unknown>,
): { args: Record<string, unknown>; modelConfirmed: boolean } {
  const { confirmed, ...rest } = args;
  let modelConfirmed = confirmed === true || confirmed === 'true';
  if (
    name === 'execute_tool' &&
    rest.arguments &&
    typeof rest.arguments === 'object' &&
    !Array.isArray(rest.arguments)
  ) {
    const { confirmed: inner, ...innerRest } = rest.arguments as Record<string, unknown>;
    modelConfirmed ||= inner === true || inner === 'true';
    return { args: { ...rest, arguments: innerRest }, modelConfirmed };
  }
  return { args: rest, modelConfirmed };
}

export function withConfirmed(name: string, args: Record<string, unknown>): Record<string, unknown> {
  if (name === 'execute_tool' && args.arguments && typeof args.arguments === 'object')
    return { ...args, arguments: { ...(args.arguments as object), confirmed: true } };
  return { ...args, confirmed: true };
}
