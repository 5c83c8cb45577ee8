// `kubeflow-mcp agent` in a real terminal: tmux runs the chat (send-keys types, capture-pane reads
// the screen) against scripted Ollama and OpenAI-compatible servers on loopback that stream tool
// calls, with the MCP server the agent starts as its child on a sandbox cluster. Covered: the seed
// workflow to a Complete job, a preview that waits for the person, "no" creating nothing, Ctrl-C
// cancelling a wait and a second one leaving, one clear line for a backend that is down or a model
// without tools, the slash commands, `npm run demo`, and `agent --help` against the README.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { AGENT_OPTIONS, HANDED_ON_OPTIONS } from '../runtime/agent/options.ts';
import { COMMANDS } from '../runtime/agent/chat.ts';
import { fitBudget } from '../runtime/agent/context.ts';
import { Agent, type AgentUI, withConfirmed, withoutConfirmed } from '../runtime/agent/engine.ts';
import type { Backend, ChatMessage } from '../runtime/agent/backends.ts';
import type { McpSession } from '../runtime/agent/mcp.ts';
import { fakeOllama, fakeOpenAI, toolResults, type FakeLlm, type Script } from './helpers/fake-llm.ts';
import { BIN, ROOT } from './helpers/mcp.ts';

const SOCKET = `kfmcp-agent-test-${process.pid}`;
const HOME = mkdtempSync(join(tmpdir(), 'kfmcp-agent-home-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
});

let chats = 0;
/** The agent in a tmux pane of 200 columns; the pane stays after the agent exits and says how it ended. */
class Chat {
  readonly name = `chat${++chats}`;
  constructor(args: string[], env: Record<string, string> = {}) {
    expect(spawnSync('tmux', ['-V']).status, 'tmux is needed (apt-get install -y tmux)').toBe(0);
    const vars = Object.entries({ HOME, TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env })
      .map(([k, v]) => `${k}=${q(v)}`)
      .join(' ');
    const cmd = `cd ${q(ROOT)} && env -u OLLAMA_HOST -u OPENAI_BASE_URL -u OPENAI_API_KEY -u NO_COLOR ${vars} ${q(process.execPath)} ${q(BIN)} agent ${args.map(q).join(' ')}; echo "[agent exited with $?]"; sleep 600`;
    tmux('new-session', '-d', '-s', this.name, '-x', '200', '-y', '50', cmd);
    cleanups.push(() => {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', this.name]);
    });
  }
  screen(): string {
    return tmux('capture-pane', '-p', '-J', '-t', this.name, '-S', '-5000');
  }
  type(text: string): void {
    tmux('send-keys', '-t', this.name, '-l', text);
    tmux('send-keys', '-t', this.name, 'Enter');
  }
  key(k: string): void {
    tmux('send-keys', '-t', this.name, k);
  }
  /** Waits until the screen matches (a count of matches, when given). */
  async waitFor(re: RegExp, times = 1, timeout = 90_000): Promise<string> {
    const end = Date.now() + timeout;
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    for (;;) {
      const s = this.screen();
      if ((s.match(g)?.length ?? 0) >= times) return s;
      if (Date.now() > end) throw new Error(`screen never showed ${re} (${times}x):\n${s}`);
      await sleep(150);
    }
  }
  /** Waits for the n-th prompt, empty and on the last line (the chat is idle again). */
  async prompt(n: number, timeout = 90_000): Promise<string> {
    const end = Date.now() + timeout;
    for (;;) {
      const s = this.screen();
      const lines = s.trimEnd().split('\n');
      if (lines.filter((l) => l.startsWith('you>')).length >= n && /^you>\s*$/.test(lines.at(-1)!)) return s;
      if (Date.now() > end) throw new Error(`prompt ${n} never came back:\n${s}`);
      await sleep(150);
    }
  }
}

async function sandbox(opts: Parameters<typeof startSandbox>[0]): Promise<{ sb: Sandbox; kubeconfig: string }> {
  const sb = await startSandbox(opts);
  cleanups.push(() => sb.stop());
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-agent-kc-')), 'kubeconfig');
  writeFileSync(kubeconfig, sb.kubeconfig);
  return { sb, kubeconfig };
}

async function trainJobs(sb: Sandbox): Promise<any[]> {
  const res = await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`);
  return ((await res.json()) as any).items;
}

async function llm(make: Promise<FakeLlm>): Promise<FakeLlm> {
  const f = await make;
  cleanups.push(() => f.close());
  return f;
}

const JOB = 'llama-alpaca';
const TOKEN = 'hf_AgentTestToken42';
const FINE_TUNE = {
  model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-llama3.2-1b',
  name: JOB,
  hf_token: TOKEN,
  resources_per_node: { gpu: 1 },
};

/** The seed workflow as a model would run it; the model even sets confirmed=true on its own. */
const seedWorkflow: Script = ({ messages }) => {
  const results = toolResults(messages);
  switch (results.length) {
    case 0:
      return {
        thinking: 'The person wants a fine-tune; check the cluster first.',
        text: 'Let me check the cluster.',
        calls: [{ name: 'pre_flight', arguments: { model: 'meta-llama/Llama-3.2-1B-Instruct' } }],
      };
    case 1:
      return { text: 'Now the runtimes.', calls: [{ name: 'list_runtimes', arguments: {} }] };
    case 2:
      return { text: 'Here is the job.', calls: [{ name: 'fine_tune', arguments: { ...FINE_TUNE, confirmed: true } }] };
    case 3:
      if (results[2].includes('declined')) return { text: 'Understood: nothing was submitted.' };
      return {
        text: 'Submitted; waiting for it.',
        calls: [{ name: 'wait_for_training', arguments: { name: JOB, timeout_seconds: 120, polling_interval: 0.2 } }],
      };
    case 4:
      return { calls: [{ name: 'get_training_logs', arguments: { name: JOB } }] };
    default:
      return {
        text: `Fine-tuning finished; the logs end with ${/Loss: [\d.]+/.exec(results[4])?.[0] ?? 'no loss line'}.`,
      };
  }
};

describe('kubeflow-mcp agent in a terminal', () => {
  it('runs the seed workflow to a Complete job over Ollama, and the preview waits for the person', async () => {
    const { sb, kubeconfig } = await sandbox({ timeScale: 0.05 });
    const ollama = await llm(fakeOllama(seedWorkflow));
    const chat = new Chat([
      '--backend',
      'ollama',
      '--url',
      ollama.url,
      '--model',
      'fake-tools:8b',
      '--thinking',
      '--kubeconfig',
      kubeconfig,
      '--persona',
      'ml-engineer',
    ]);
    const start = await chat.prompt(1);
    expect(start).toMatch(/model: fake-tools:8b on Ollama \(http:\/\/127\.0\.0\.1:\d+\)/);
    expect(start).toMatch(/MCP server: 20 tools, mode full, persona ml-engineer/);

    chat.type('Fine-tune Llama 3.2 1B Instruct on the alpaca dataset');
    let s = await chat.waitFor(/Go ahead\? \[y\/N\]/);
    expect(s).toContain('thinking: The person wants a fine-tune');
    expect(s).toContain('assistant: Let me check the cluster.');
    expect(s).toContain('-> pre_flight(model="meta-llama/Llama-3.2-1B-Instruct")');
    expect(s).toContain('recommended: fine_tune on torchtune-llama3.2-1b');
    expect(s).toMatch(/ok cluster compatible; 6 of 6 nvidia\.com\/gpu free/);
    expect(s).toMatch(/ok 8 runtimes: .*torchtune-llama3\.2-1b/);
    expect(s).toContain('hf_token="***"');
    expect(s).toContain('(the model set confirmed=true; the server previews first and you decide)');
    expect(s).toContain('PREVIEW (nothing has been created or changed yet)');
    expect(s).toContain(`| TrainJob default/${JOB}:`);
    expect(s).toContain(`| Secret ${JOB}-credentials:`);
    expect(s).toContain('server-side dry run: accepted');
    // The question waits: nothing exists, nothing more is asked of the model, until the person answers.
    const asked = ollama.chats().length;
    await sleep(1500);
    expect(await trainJobs(sb)).toEqual([]);
    expect(ollama.chats().length).toBe(asked);
    expect(chat.screen().trimEnd().split('\n').pop()).toMatch(/Go ahead\? \[y\/N\]$/);

    chat.type('y');
    s = await chat.waitFor(/Fine-tuning finished/);
    await chat.prompt(2);
    s = chat.screen();
    expect(s).toContain('-> fine_tune(the previewed arguments, confirmed=true)');
    expect(s).toContain(`ok Fine-tuning job '${JOB}' submitted`);
    expect(s).toMatch(/\[#+-*\]\s+\d+% llama-alpaca/);
    expect(s).toContain("ok Job reached 'Complete'");
    expect(s).toMatch(/log lines, the last 4:/);
    expect(s).toMatch(/Fine-tuning finished; the logs end with Loss: [\d.]+/);
    expect(s).not.toContain(TOKEN);
    const [job] = await trainJobs(sb);
    expect(job.metadata.name).toBe(JOB);
    expect(job.status.conditions.some((c: any) => c.type === 'Complete' && c.status === 'True')).toBe(true);
    // The model saw the real outcome of the approved call, and the tools in Ollama's format.
    const last = ollama.chats().at(-1)!.body;
    expect(toolResults(last.messages)[2]).toMatch(/^The person approved the preview.*"status":"Created"/);
    expect(last.tools.map((t: any) => t.function.name)).toContain('fine_tune');
    expect(last.think).toBe(true);
    expect(last.messages[0].role).toBe('system');
  }, 180_000);

  it('creates nothing on "no" (OpenAI-compatible backend chosen by env, --sandbox), then /tools, /mode, /save and /help', async () => {
    const openai = await llm(
      fakeOpenAI(
        ({ messages }) => {
          const results = toolResults(messages);
          if (results.length === 0)
            return { text: 'A preview first.', calls: [{ name: 'fine_tune', arguments: FINE_TUNE }] };
          if (results.length === 1) return { calls: [{ name: 'list_training_jobs', arguments: {} }] };
          return { text: 'Nothing was submitted.' };
        },
        { key: 'sk-agent-test' },
      ),
    );
    const chat = new Chat(['--sandbox', '--model', 'fake-model', '--persona', 'ml-engineer'], {
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENAI_API_KEY: 'sk-agent-test',
    });
    expect(await chat.prompt(1)).toMatch(
      /model: fake-model on the OpenAI-compatible API \(http:\/\/127\.0\.0\.1:\d+\/v1\)/,
    );
    chat.type('Fine-tune Llama 3.2 1B on alpaca');
    await chat.waitFor(/Go ahead\? \[y\/N\]/);
    chat.type('no');
    let s = await chat.waitFor(/Nothing was submitted\./);
    expect(s).toContain('failed declined; nothing was created or changed');
    const results = toolResults(openai.chats().at(-1)!.body.messages);
    expect(JSON.parse(results[0])).toMatchObject({ success: false, status: 'declined' });
    // The server, asked by the model afterwards, has no job.
    expect(results[1]).not.toContain(JOB);
    expect(JSON.parse(results[1]).data.total ?? 0).toBe(0);
    // Arguments streamed in pieces were put together; the tool result answers the call's id.
    const msgs = openai.chats().at(-1)!.body.messages;
    const call = msgs.find((m: any) => m.tool_calls)?.tool_calls[0];
    expect(JSON.parse(call.function.arguments)).toEqual(FINE_TUNE);
    expect(msgs.find((m: any) => m.role === 'tool').tool_call_id).toBe(call.id);
    await chat.prompt(2);

    chat.type('/tools');
    s = await chat.prompt(3);
    expect(s).toContain('20 tools (mode full, persona ml-engineer):');
    expect(s).toMatch(/^ {2}wait_for_training\s+\S/m);
    chat.type('/mode progressive');
    expect(await chat.prompt(4)).toContain('mode is now progressive: 3 tools');
    chat.type('/think');
    expect(await chat.prompt(5)).toContain('thinking on');
    chat.type('/help');
    s = await chat.prompt(6);
    for (const [c] of COMMANDS) expect(s).toContain(c);
    const saved = join(HOME, 'chat.md');
    chat.type(`/save ${saved}`);
    expect(await chat.prompt(7)).toContain('transcript written to');
    const md = readFileSync(saved, 'utf8');
    expect(md).toContain('## You\n\nFine-tune Llama 3.2 1B on alpaca');
    expect(md).toContain('**The person answered**: no');
    expect(md).not.toContain(TOKEN);
    chat.type('/exit');
    await chat.waitFor(/\[agent exited with 0\]/);
    expect(readFileSync(join(HOME, '.kubeflow-mcp_agent_history'), 'utf8')).toContain('/mode progressive');
  }, 180_000);

  it('cancels a running wait on Ctrl-C (the job keeps running), tells the model, and leaves on a second Ctrl-C', async () => {
    const { sb, kubeconfig } = await sandbox({ timeScale: 1, durations: { trainer: 600_000 } });
    const script = join(HOME, 'train.py');
    writeFileSync(script, 'print("training for a long time")\n');
    const ollama = await llm(
      fakeOllama(({ messages }) => {
        const lastUser = String(messages.filter((m: any) => m.role === 'user').at(-1)?.content);
        if (lastUser.startsWith('What happened'))
          return {
            text: messages.some((m: any) => m.role === 'tool' && m.content.includes('cancelled'))
              ? 'You cancelled the wait; the job is still running.'
              : 'No idea.',
          };
        const results = toolResults(messages);
        if (results.length === 0)
          return {
            calls: [
              {
                name: 'run_custom_training',
                arguments: { script: '@file:train.py', name: 'long-run', gpu_per_node: 0 },
              },
            ],
          };
        if (results.length === 1)
          return {
            calls: [
              {
                name: 'wait_for_training',
                arguments: { name: 'long-run', timeout_seconds: 900, polling_interval: 0.3 },
              },
            ],
          };
        return { text: 'Done.' };
      }),
    );
    const chat = new Chat([
      '--url',
      ollama.url,
      '--model',
      'fake-tools:8b',
      '--kubeconfig',
      kubeconfig,
      '--persona',
      'ml-engineer',
    ]);
    await chat.prompt(1);
    chat.type(`/file ${script}`);
    await chat.waitFor(/attached train\.py \(2 lines\)/);
    chat.type('Run my script');
    await chat.waitFor(/Go ahead\? \[y\/N\]/);
    expect(chat.screen()).toContain('-> run_custom_training(script="@file:train.py"');
    chat.type('yes');
    await chat.waitFor(/\[[#-]+\]\s+\d+% long-run: /);
    await sleep(1000);
    chat.key('C-c');
    const s = await chat.waitFor(/cancelled: wait_for_training cancelled/);
    expect(s).not.toMatch(/^\s+at /m);
    await chat.prompt(3);
    const [job] = await trainJobs(sb);
    expect(job.metadata.name).toBe('long-run');
    expect(job.spec.trainer.command.join('\n')).toContain('print("training for a long time")');
    expect(
      job.status?.conditions?.some((c: any) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True') ?? false,
    ).toBe(false);

    chat.type('What happened?');
    await chat.waitFor(/You cancelled the wait; the job is still running\./);
    await chat.prompt(4);
    chat.key('C-c');
    await chat.waitFor(/press Ctrl-C again, Ctrl-D or type \/exit to leave/);
    chat.key('C-c');
    await chat.waitFor(/\[agent exited with 0\]/);
  }, 180_000);

  it('says in one line that the backend is down, or that the model cannot call tools', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = new Chat(['--url', `http://127.0.0.1:${port}`, '--sandbox']);
    const line = new RegExp(
      `^error: cannot reach Ollama at http://127\\.0\\.0\\.1:${port} \\(connection refused\\); start it with "ollama serve", or set --url or OLLAMA_HOST$`,
      'm',
    );
    await down.waitFor(line);
    await down.prompt(1);
    down.type('hello');
    const s = await down.waitFor(line, 2);
    await down.prompt(2);
    expect(s.split('\n').filter((l) => /error|Error/.test(l))).toHaveLength(2);
    expect(s).not.toMatch(/^\s+at |TypeError|fetch failed/m);

    const noTools = await llm(
      fakeOllama(
        () => ({ error: { status: 400, message: 'registry.ollama.ai/library/gemma3:1b does not support tools' } }),
        { capabilities: ['completion'] },
      ),
    );
    const chat = new Chat(['--url', noTools.url, '--model', 'gemma3:1b', '--sandbox']);
    await chat.waitFor(
      /^error: model "gemma3:1b" cannot call tools \(its capabilities do not include tools\); choose one that can/m,
    );
    await chat.prompt(1);
    chat.type('hello');
    await chat.waitFor(
      /^error: model "gemma3:1b" cannot call tools \(registry\.ollama\.ai\/library\/gemma3:1b does not support tools\)/m,
    );

    const openai = await llm(fakeOpenAI(() => ({ text: 'unused' }), { key: 'sk-right' }));
    const refused = new Chat(['--backend', 'openai', '--url', `${openai.url}/v1`, '--sandbox'], {
      OPENAI_API_KEY: 'sk-wrong',
    });
    await refused.waitFor(
      /^error: http:\/\/127\.0\.0\.1:\d+\/v1 refused the request \(401: Incorrect API key provided\); set OPENAI_API_KEY to a valid key$/m,
    );
  }, 180_000);
});

describe('npm run demo', () => {
  it('walks the seed workflow on the sandbox to Complete with a readable transcript', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'demo'], {
      cwd: ROOT,
      env: { ...process.env, HOME, NO_COLOR: '1' },
      timeout: 150_000,
    });
    const order = [
      '-> pre_flight(',
      '-> list_runtimes()',
      '-> fine_tune(',
      'PREVIEW',
      'Go ahead? [y/N] y',
      '-> fine_tune(the previewed arguments, confirmed=true)',
      '-> wait_for_training(',
      "ok Job reached 'Complete'",
      '-> get_training_logs(',
      'Demo finished: the job ran to Complete',
    ];
    const at = order.map((o) => stdout.indexOf(o));
    expect(
      at.every((i) => i >= 0),
      stdout,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(stdout).not.toContain('{"success"');
    expect(stdout).not.toContain('hf_demo_not_a_real_token"');
  }, 180_000);
});

describe('agent --help and the README', () => {
  const help = execFileSync(process.execPath, [BIN, 'agent', '--help'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '200' },
  });
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^## Chat from the terminal: kubeflow-mcp agent\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const longFlags = (text: string) => new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]));

  it('documents every option of the command, and no other', () => {
    expect(section).not.toBe('');
    const helpFlags = [...longFlags(help)].filter((f) => f !== 'help').sort();
    const table = section
      .split('\n')
      .filter((l) => l.startsWith('| `-'))
      .join('\n');
    expect([...longFlags(table)].sort()).toEqual(helpFlags);
    expect(helpFlags).toEqual(
      [...AGENT_OPTIONS, ...HANDED_ON_OPTIONS].map((o) => /--([\w-]+)/.exec(o.flags)![1]).sort(),
    );
    // Short flags as the help gives them.
    for (const [, short, long] of help.matchAll(/^ {2}-(\w), --([\w-]+)/gm))
      if (long !== 'help') expect(section).toContain(`-${short}, --${long}`);
    expect(help).toContain('chat in the terminal with a model (Ollama or an OpenAI-compatible API)');
  });

  it('lists every chat command and the environment the backends read', () => {
    for (const [c] of COMMANDS) expect(section).toContain(c.split(' ')[0]);
    for (const v of ['OLLAMA_HOST', 'OPENAI_BASE_URL', 'OPENAI_API_KEY']) {
      expect(section).toContain(v);
      expect(help).toContain(v);
    }
    expect(section).toContain('npm run demo');
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.demo).toBeDefined();
  });
});

describe("the agent's rules, in-process", () => {
  it("never lets the model's confirmed=true through, in full and progressive modes", () => {
    expect(withoutConfirmed('fine_tune', { name: 'x', confirmed: true })).toEqual({
      args: { name: 'x' },
      modelConfirmed: true,
    });
    expect(
      withoutConfirmed('execute_tool', { name: 'fine_tune', arguments: { name: 'x', confirmed: 'true' } }),
    ).toEqual({ args: { name: 'fine_tune', arguments: { name: 'x' } }, modelConfirmed: true });
    expect(withConfirmed('execute_tool', { name: 'fine_tune', arguments: { name: 'x' } })).toEqual({
      name: 'fine_tune',
      arguments: { name: 'x', confirmed: true },
    });
  });

  it('sends what the model asked without confirmed, asks the person, and gives the model every outcome', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const session = {
      instructions: 'server instructions',
      tools: [{ name: 'fine_tune', inputSchema: { type: 'object' } }],
      async call(name: string, args: Record<string, unknown>) {
        calls.push([name, args]);
        if (name === 'nope') throw new Error('MCP error -32602: Unknown tool nope');
        const envelope = args.confirmed
          ? { success: true, data: { message: 'submitted' } }
          : { success: true, status: 'preview', message: 'Review it.', config: {} };
        return { text: JSON.stringify(envelope), envelope, isError: false };
      },
    } as unknown as McpSession;
    const replies: ChatMessage[] = [
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'a', name: 'fine_tune', arguments: { name: 'j', confirmed: true } },
          { id: 'b', name: 'nope', arguments: {} },
        ],
      },
      { role: 'assistant', content: 'ok' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'fine_tune', arguments: { name: 'j' } }] },
      { role: 'assistant', content: 'done' },
    ];
    const seen: ChatMessage[][] = [];
    const backend = {
      kind: 'script',
      label: 'test',
      url: '',
      model: 'm',
      check: async () => [],
      chat: async (req: { messages: ChatMessage[] }) => {
        seen.push(req.messages);
        return replies.shift()!;
      },
    } as unknown as Backend;
    const answers = ['no', 'yes'];
    const quiet = () => {};
    const ui: AgentUI = {
      thinking: quiet,
      text: quiet,
      endMessage: quiet,
      toolCall: quiet,
      toolResult: quiet,
      preview: quiet,
      progress: quiet,
      progressDone: quiet,
      notice: quiet,
      confirm: async () => answers.shift() === 'yes',
    };
    const agent = new Agent(session, backend, ui, { think: false, contextTokens: 16_000 });
    await agent.turn('go', new AbortController().signal);
    expect(calls).toEqual([
      ['fine_tune', { name: 'j' }],
      ['nope', {}],
    ]);
    const results = seen[1].filter((m) => m.role === 'tool');
    expect(results.map((m) => m.toolCallId)).toEqual(['a', 'b']);
    expect(JSON.parse(results[0].content)).toMatchObject({ status: 'declined' });
    expect(JSON.parse(results[1].content)).toMatchObject({
      success: false,
      error: expect.stringContaining('Unknown tool nope'),
    });
    expect(seen[0][0]).toMatchObject({ role: 'system', content: expect.stringContaining('server instructions') });
    await agent.turn('again', new AbortController().signal);
    expect(calls.slice(2)).toEqual([
      ['fine_tune', { name: 'j' }],
      ['fine_tune', { name: 'j', confirmed: true }],
    ]);
    expect(seen[3].at(-1)!.content).toMatch(/^The person approved the preview.*submitted/);
  });

  it('trims old tool results first, then old exchanges, and keeps the request in progress', () => {
    const big = 'x'.repeat(8000);
    const msgs: any[] = [
      { role: 'system', content: 'system' },
      { role: 'user', content: `first ${'y'.repeat(3000)}` },
      { role: 'assistant', content: '', toolCalls: [{ id: '1', name: 'list_runtimes', arguments: {} }] },
      { role: 'tool', toolName: 'list_runtimes', content: big },
      { role: 'user', content: 'second' },
      { role: 'assistant', content: '', toolCalls: [{ id: '2', name: 'get_training_logs', arguments: {} }] },
      { role: 'tool', toolName: 'get_training_logs', content: big },
    ];
    const f = fitBudget(msgs, 3400);
    expect(f.trimmedResults).toBe(1);
    expect(f.droppedMessages).toBe(0);
    expect(f.messages[3].content).toMatch(/^\[list_runtimes result of 8000 characters left out/);
    expect(f.messages[6].content).toBe(big);
    const tight = fitBudget([...msgs, { role: 'user', content: 'third' }], 500);
    expect(tight.messages[0].content).toBe('system');
    expect(tight.messages[1].content).toBe('second');
    expect(tight.messages.at(-1)!.content).toBe('third');
    expect(tight.droppedMessages).toBeGreaterThan(0);
  });

  it('leaves the start-up bundle as it was: the agent is its own lazy entry', () => {
    const inputs: string[] = JSON.parse(readFileSync(join(ROOT, 'dist', 'cli.inputs.json'), 'utf8'));
    expect(inputs.filter((i) => i.includes('runtime/agent'))).toEqual([]);
    expect(readFileSync(join(ROOT, 'dist', 'cli.mjs'), 'utf8')).not.toContain('kubeflow-mcp-agent');
    // commands.mjs (itself lazy) loads the agent's chunk only when the command runs.
    const commands = readFileSync(join(ROOT, 'dist', 'lazy', 'commands.mjs'), 'utf8');
    const chunk = /import\("\.\/(chunks\/agent-\w+\.mjs)"\)/.exec(commands)?.[1];
    expect(chunk).toBeDefined();
    expect(commands).not.toContain('kubeflow-mcp-agent');
    expect(readFileSync(join(ROOT, 'dist', 'lazy', chunk!), 'utf8')).toContain('kubeflow-mcp-agent');
  });
});
