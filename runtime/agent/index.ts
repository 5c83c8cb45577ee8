// `kubeflow-mcp agent`: starts this server as a child process, connects to it over MCP with the
// SDK's client, picks the model backend, and runs the terminal chat. Loaded only by this command.
import * as readline from 'node:readline/promises';
import { ConfigError } from '../policy.ts';
import { VERSION } from '../version.ts';
import { BackendError, makeBackend, type Backend } from './backends.ts';
import { loadHistory, runChat, type ChatContext } from './chat.ts';
import { Agent } from './engine.ts';
import { McpSession, ownServerCommand, type ServerCommand } from './mcp.ts';
import { serveArgs } from './options.ts';
import { TerminalUI } from './terminal.ts';
import { setting } from '../settings.ts';

export interface AgentRun {
  command?: ServerCommand;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export function contextTokens(flag: unknown): number {
  if (flag === undefined) return 16_000;
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1000)
    throw new ConfigError(`invalid --context-tokens "${flag}"; expected a whole number of at least 1000`);
  return n;
}

export async function runAgent(flags: Record<string, any>, run: AgentRun = {}): Promise<void> {
  const input = (run.input ?? process.stdin) as NodeJS.ReadStream;
  const output = (run.output ?? process.stdout) as NodeJS.WriteStream;
  const budget = contextTokens(flags.contextTokens);
  let backend: Backend;
  try {
    backend = makeBackend({ backend: flags.backend, model: flags.model, url: flags.url });
  } catch (e) {
    throw e instanceof BackendError ? new ConfigError(e.message) : e;
  }
  const tty = !!output.isTTY;
  const color = tty && !setting('noColor') && setting('term') !== 'dumb';
  const current = { mode: String(flags.mode ?? 'full'), persona: String(flags.persona ?? '(default)') };
  const overrides: Record<string, string | undefined> = {};
  const session = new McpSession(run.command ?? ownServerCommand(), serveArgs(flags));

  // The prompt comes once the server is up: lines piped in meanwhile wait in the input stream.
  let rl: readline.Interface | undefined;
  let agent: Agent | undefined;
  const ui = new TerminalUI(
    output,
    tty,
    color,
    () => agent?.think ?? false,
    (q, signal) =>
      (rl as readline.Interface).question(q, { signal }).catch((e) => {
        // The input has ended (a pipe): nobody can say yes.
        if (signal.aborted) throw e;
        output.write('\n');
        return 'no';
      }),
  );

  ui.line(
    ui.p.dim(`kubeflow-mcp agent ${VERSION}: starting the MCP server (${session.serveArgs.join(' ') || 'serve'})...`),
  );
  const [started, checked] = await Promise.allSettled([session.start(), backend.check(!!flags.thinking)]);
  if (started.status === 'rejected') {
    await session.close();
    throw new ConfigError((started.reason as Error).message);
  }
  agent = new Agent(session, backend, ui, { think: !!flags.thinking, contextTokens: budget });
  const header = () => [
    `model: ${backend.model} on ${backend.label} (${backend.url})`,
    `MCP server: ${session.tools.length} tools, mode ${current.mode}, persona ${current.persona}${flags.sandbox ? ', sandbox cluster' : ''}`,
  ];
  for (const h of header()) ui.line(h);
  ui.line(
    ui.p.dim(
      'Type a request. /help lists the commands; Ctrl-C cancels a running call, and twice at the prompt leaves.',
    ),
  );
  if (checked.status === 'rejected')
    ui.error(
      checked.reason instanceof BackendError
        ? checked.reason.message
        : String((checked.reason as Error)?.message ?? checked.reason),
    );
  else for (const n of checked.value) ui.notice(n);

  rl = readline.createInterface({
    input,
    output,
    terminal: !!input.isTTY && tty,
    history: loadHistory(),
    historySize: 500,
    prompt: 'you> ',
  });
  if (!input.isTTY) process.on('SIGINT', () => rl?.emit('SIGINT'));
  const ctx: ChatContext = {
    session,
    agent,
    ui,
    rl,
    current,
    header,
    async restart(option, value) {
      const before = { ...overrides };
      overrides[option] = value;
      await session.close();
      session.serveArgs = serveArgs(flags, overrides);
      try {
        await session.start();
        current[option] = value;
        return undefined;
      } catch (e) {
        Object.assign(overrides, before);
        if (!(option in before)) delete overrides[option];
        session.serveArgs = serveArgs(flags, overrides);
        await session.start().catch(() => {});
        return `${(e as Error).message}; kept ${option} ${current[option]}`;
      }
    },
  };
  await new Promise<void>((resolve) => {
    runChat(ctx, async () => {
      rl?.close();
      await session.close();
      resolve();
    });
  });
  process.exit(0);
}
