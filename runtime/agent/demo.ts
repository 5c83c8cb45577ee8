// `npm run demo`: the seed workflow on the sandbox through the agent's own client code (the MCP
// session, the preview gate, the renderings), with a scripted model in place of a real one and
// the person's answers typed by the script: pre_flight -> list_runtimes -> fine_tune preview ->
// yes -> wait_for_training -> get_training_logs. Prints the transcript; no model needed.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, ChatMessage, ChatRequest, StreamHandlers } from './backends.ts';
import { Agent } from './engine.ts';
import { McpSession, type ServerCommand } from './mcp.ts';
import { TerminalUI } from './terminal.ts';
import { setting } from '../settings.ts';

type Step = (toolResults: any[]) => {
  thinking?: string;
  text?: string;
  call?: { name: string; arguments: Record<string, unknown> };
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const parse = (s: string) => {
  try {
    return JSON.parse(s.replace(/^[^{]*/, ''));
  } catch {
    return {};
  }
};

const MODEL = 'meta-llama/Llama-3.2-1B-Instruct';
const JOB = 'llama-alpaca-demo';

/** The scripted model's rounds for the one request of the demo. */
const STEPS: Step[] = [
  () => ({
    thinking: 'First check the cluster, the GPUs and what this model needs.',
    text: 'Let me check the cluster first.',
    call: { name: 'pre_flight', arguments: { model: MODEL } },
  }),
  ([pre]) => {
    const sel = pre?.data?.tool_selection ?? {};
    return {
      text: `The cluster is ready and ${sel.recommended ?? 'fine_tune'} on ${sel.runtime ?? 'a torchtune runtime'} is recommended. Here are the runtimes:`,
      call: { name: 'list_runtimes', arguments: {} },
    };
  },
  ([pre]) => ({
    text: 'I will prepare the fine-tuning job.',
    // The scripted model even asks for confirmed=true: the chat still previews and asks the person.
    call: {
      name: 'fine_tune',
      arguments: {
        model: `hf://${MODEL}`,
        dataset: 'hf://tatsu-lab/alpaca',
        runtime: pre?.data?.tool_selection?.runtime ?? 'torchtune-llama3.2-1b',
        name: JOB,
        hf_token: 'hf_demo_not_a_real_token',
        resources_per_node: { gpu: 1 },
        confirmed: true,
      },
    },
  }),
  () => ({
    text: 'Submitted. I will follow it to the end.',
    call: { name: 'wait_for_training', arguments: { name: JOB, timeout_seconds: 300, polling_interval: 0.5 } },
  }),
  () => ({ text: 'It finished; here is its output.', call: { name: 'get_training_logs', arguments: { name: JOB } } }),
  (results) => {
    const logs: string = results.at(-1)?.data?.logs ?? '';
    const loss = logs
      .split('\n')
      .filter((l) => /Loss/.test(l))
      .pop();
    return { text: `The job ${JOB} is Complete.${loss ? ` Its last training line: ${loss.trim()}` : ''}` };
  },
];

/** A "model" that follows STEPS, reading the tool results it is given. */
export class ScriptedBackend implements Backend {
  readonly kind = 'script' as const;
  readonly label = 'a scripted model';
  readonly url = 'no network';
  readonly model = 'demo script';
  async check(): Promise<string[]> {
    return [];
  }
  async chat(req: ChatRequest, h: StreamHandlers): Promise<ChatMessage> {
    const lastUser = req.messages.map((m) => m.role).lastIndexOf('user');
    const results = req.messages
      .slice(lastUser + 1)
      .filter((m) => m.role === 'tool')
      .map((m) => parse(m.content));
    const step = STEPS[Math.min(results.length, STEPS.length - 1)](results);
    if (step.thinking && req.think)
      for (const w of step.thinking.split(/(?<= )/)) {
        h.onThinking?.(w);
        await pause(15);
      }
    for (const w of (step.text ?? '').split(/(?<= )/)) {
      h.onText?.(w);
      await pause(15);
    }
    return {
      role: 'assistant',
      content: step.text ?? '',
      thinking: step.thinking,
      toolCalls: step.call ? [{ id: `demo-${results.length}`, ...step.call }] : [],
    };
  }
}

export async function runDemo(out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const command: ServerCommand = { command: process.execPath, args: [join(root, 'bin', 'kubeflow-mcp.mjs')] };
  const session = new McpSession(command, ['--sandbox', '--time-scale', '0.1', '--persona', 'ml-engineer']);
  const tty = !!out.isTTY;
  const ui = new TerminalUI(
    out,
    tty,
    tty && !setting('noColor'),
    () => true,
    async (question) => {
      out.write(question);
      await pause(600);
      out.write('y\n');
      return 'y';
    },
  );
  ui.line(
    ui.p.dim('kubeflow-mcp demo: the seed workflow on the sandbox cluster, with a scripted model and scripted answers'),
  );
  await session.start();
  ui.line(`MCP server: ${session.tools.length} tools, persona ml-engineer, sandbox cluster`);
  const agent = new Agent(session, new ScriptedBackend(), ui, { think: true, contextTokens: 16_000 });
  const request =
    'Fine-tune Llama 3.2 1B Instruct on the alpaca dataset (my Hugging Face token: hf_demo_not_a_real_token).';
  ui.line(`\n${ui.p.bold('you>')} ${request}`);
  try {
    await agent.turn(request, new AbortController().signal);
  } catch (e) {
    ui.error((e as Error).message);
    await session.close();
    return 1;
  }
  await session.close();
  const complete = agent.transcript.some((e) => e.kind === 'result' && /Complete/.test(e.text));
  ui.line(
    ui.p.dim(
      complete
        ? '\nDemo finished: the job ran to Complete. Try it with a model: kubeflow-mcp agent --sandbox'
        : '\nDemo finished, but the job did not reach Complete.',
    ),
  );
  return complete ? 0 : 1;
}
