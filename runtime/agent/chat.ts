// The interactive chat: a readline prompt with history and line editing, the slash commands, and
// Ctrl-C: during a request it cancels what is running (the model's answer, a tool call, a
// question); at the prompt the first one says how to leave and a second one leaves.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as readline from 'node:readline/promises';
import { BackendError } from './backends.ts';
import { Agent, Cancelled } from './engine.ts';
import type { McpSession } from './mcp.ts';
import { TerminalUI } from './terminal.ts';
import { transcriptMarkdown } from './transcript.ts';
import { setting } from '../settings.ts';

export const COMMANDS: [string, string][] = [
  ['/tools', 'the tools the model can call now'],
  ['/mode [full|progressive|semantic]', 'show or change the tool mode (restarts the server)'],
  ['/persona [name]', 'show or change the persona (restarts the server)'],
  ['/clear', 'forget the conversation so far'],
  ['/think [on|off]', "show the model's thinking, or not"],
  ['/file <path>', 'attach a file (a script for run_custom_training) to the next message'],
  ['/save [path]', 'write the transcript as Markdown'],
  ['/help', 'this list'],
  ['/exit', 'leave (also Ctrl-D, or Ctrl-C twice)'],
];

export interface ChatContext {
  session: McpSession;
  agent: Agent;
  ui: TerminalUI;
  rl: readline.Interface;
  /** Restarts the server with a changed serve option; returns an error line or undefined. */
  restart(option: 'mode' | 'persona', value: string): Promise<string | undefined>;
  current: { mode: string; persona: string };
  header(): string[];
}

export function historyFile(): string {
  return setting('agentHistory') ?? join(homedir(), '.kubeflow-mcp_agent_history');
}

export function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500);
  } catch {
    return [];
  }
}

export function saveHistory(h: string[]): void {
  try {
    writeFileSync(historyFile(), `${[...h].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    /* no writable home: keep it in memory */
  }
}

/** A slash command; returns false for /exit. */
async function command(ctx: ChatContext, line: string): Promise<boolean> {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const { ui, agent, session } = ctx;
  switch (cmd) {
    case '/help':
      for (const [c, d] of COMMANDS) ui.line(`  ${c.padEnd(36)} ${d}`);
      ui.line('  Ctrl-C cancels a running call; at the prompt, press it twice to leave.');
      return true;
    case '/tools':
      ui.line(`${session.tools.length} tools (mode ${ctx.current.mode}, persona ${ctx.current.persona}):`);
      for (const t of session.tools) {
        const first = (t.description ?? '').split(/(?<=\.)\s/)[0];
        ui.line(`  ${t.name.padEnd(26)} ${first.length > 110 ? `${first.slice(0, 107)}...` : first}`);
      }
      return true;
    case '/mode':
    case '/persona': {
      const key = cmd.slice(1) as 'mode' | 'persona';
      if (!arg) {
        ui.line(`${key}: ${ctx.current[key]}`);
        return true;
      }
      if (key === 'mode' && !['full', 'progressive', 'semantic'].includes(arg)) {
        ui.error(`unknown mode "${arg}"; expected full, progressive or semantic`);
        return true;
      }
      ui.notice(`restarting the MCP server with --${key} ${arg}`);
      const err = await ctx.restart(key, arg);
      if (err) ui.error(err);
      else ui.line(`${key} is now ${arg}: ${session.tools.length} tools`);
      return true;
    }
    case '/clear':
      agent.clear();
      ui.line('conversation cleared');
      return true;
    case '/think':
      agent.think = arg === 'on' ? true : arg === 'off' ? false : !agent.think;
      ui.line(`thinking ${agent.think ? 'on' : 'off'}`);
      return true;
    case '/file': {
      if (!arg) {
        ui.error('usage: /file <path>');
        return true;
      }
      try {
        const { name, lines } = agent.attach(arg.replace(/^~(?=\/)/, homedir()));
        ui.line(`attached ${name} (${lines} lines) to your next message; the model passes it as "@file:${name}"`);
      } catch (e) {
        ui.error(`cannot read ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      return true;
    }
    case '/save': {
      const path = arg || `kubeflow-mcp-chat-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.md`;
      try {
        writeFileSync(path, transcriptMarkdown(agent.transcript, ctx.header()));
        ui.line(`transcript written to ${path}`);
      } catch (e) {
        ui.error(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      return true;
    }
    case '/exit':
    case '/quit':
      return false;
    default:
      ui.error(`unknown command ${cmd}; /help lists them`);
      return true;
  }
}

/** One line of an error for the person: ours as they are, anything else by its first line. */
export function errorLine(e: unknown, session: McpSession): string {
  if (e instanceof BackendError) return e.message;
  const msg = String((e as Error)?.message ?? e).split('\n')[0];
  if (/Connection closed|not running/i.test(msg)) {
    const last = session.lastServerLine().replace(/^kubeflow-mcp: /, '');
    return `the MCP server stopped${last ? ` (${last})` : ''}; /mode or /persona starts it again`;
  }
  return msg;
}

export function runChat(ctx: ChatContext, onExit: () => Promise<void>): void {
  const { rl, ui, agent, session } = ctx;
  let running: AbortController | undefined;
  let armed = false;
  let leaving = false;
  // Input from a pipe: lines wait their turn, and its end lets the request in progress finish.
  const piped = !(rl as any).terminal;
  const queue: string[] = [];
  let inputEnded = false;

  const leave = async () => {
    if (leaving) return;
    leaving = true;
    running?.abort();
    ui.line();
    await onExit();
  };

  rl.on('SIGINT', () => {
    if (running) {
      armed = true;
      running.abort();
      return;
    }
    if (rl.line) {
      // Like a shell: a Ctrl-C drops the line being typed.
      (rl as any).line = '';
      (rl as any).cursor = 0;
      ui.write('^C\n');
      rl.prompt();
      return;
    }
    if (armed) {
      void leave();
      return;
    }
    armed = true;
    ui.write('\n');
    ui.notice('press Ctrl-C again, Ctrl-D or type /exit to leave');
    rl.prompt();
  });
  rl.on('close', () => {
    inputEnded = true;
    if (!(piped && running)) void leave();
  });
  rl.on('history', (h: string[]) => saveHistory(h));

  const onLine = async (input: string): Promise<void> => {
    if (leaving) return;
    if (running) {
      if (piped) queue.push(input);
      else if (input.trim()) ui.notice('busy with the last request; Ctrl-C cancels it');
      return;
    }
    // Nothing echoes what comes through a pipe: the transcript shows it after the prompt.
    if (piped) ui.write(`${input}\n`);
    armed = false;
    const text = input.trim();
    if (!text) {
      rl.prompt();
      return;
    }
    const ac = new AbortController();
    running = ac;
    try {
      if (text.startsWith('/')) {
        if (!(await command(ctx, text))) {
          running = undefined;
          await leave();
          return;
        }
      } else {
        await agent.turn(text, ac.signal);
      }
    } catch (e) {
      if (e instanceof Cancelled || ac.signal.aborted)
        ui.line(ui.p.yellow(`cancelled: ${e instanceof Cancelled ? e.message : 'stopped'}`));
      else ui.error(errorLine(e, session));
    } finally {
      running = undefined;
    }
    if (leaving) return;
    if (queue.length) {
      rl.prompt();
      return onLine(queue.shift() as string);
    }
    if (inputEnded) {
      await leave();
      return;
    }
    rl.prompt();
  };
  rl.on('line', (input: string) => {
    void onLine(input);
  });
  rl.prompt();
}
