// The context an agent holds at the end of the seed workflow, per mode: the instructions, the tool
// list, and every request and answer of the calls an agent makes in that mode (o200k tokens). In
// full mode it calls the tools; in progressive mode it lists, describes and executes them; in
// semantic mode it finds and executes them, one search per step.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { tokens } from './measure.ts';

type Call = [string, Record<string, unknown>];
const MODEL = {
  model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-llama3.2-1b',
  hf_token: 'hf_BenchSeedToken000',
};

/** The seed workflow's tool calls, by step: plan, discover, preview, submit, wait, read the logs. */
const steps = (job: string): Array<{ search?: string; call: Call }> => [
  {
    search: 'check the cluster and plan fine-tuning Llama 3.2 1B',
    call: ['pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' }],
  },
  { search: 'which training runtimes are installed', call: ['list_runtimes', {}] },
  { search: 'fine-tune a model on a dataset', call: ['fine_tune', { ...MODEL, name: job }] },
  { call: ['fine_tune', { ...MODEL, name: job, confirmed: true }] },
  {
    search: 'wait until my training job finishes',
    call: ['wait_for_training', { name: job, timeout_seconds: 300, polling_interval: 0.5 }],
  },
  { search: 'show the training logs', call: ['get_training_logs', { name: job }] },
];

export interface SeedContext {
  mode: string;
  calls: number;
  instructions: number;
  toolsList: number;
  exchanges: number;
  total: number;
}

export async function seedContext(
  client: Client,
  mode: 'full' | 'progressive' | 'semantic',
  job: string,
): Promise<SeedContext> {
  const instructions = tokens(client.getInstructions() ?? '');
  const toolsList = tokens(await client.listTools());
  let exchanges = 0,
    calls = 0;
  const call = async (name: string, args: Record<string, unknown>) => {
    const res = await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
    calls++;
    // What the agent sends and what it reads back (the text content; structuredContent repeats it).
    exchanges +=
      tokens({ name, arguments: args }) +
      tokens((res.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n'));
    return res;
  };
  const plan = steps(job);
  if (mode === 'progressive') {
    await call('list_tools', {});
    await call('describe_tools', { names: [...new Set(plan.map((s) => s.call[0]))] });
  }
  for (const s of plan) {
    if (mode === 'full') await call(...s.call);
    else {
      if (mode === 'semantic' && s.search) await call('find_tools', { query: s.search });
      await call('execute_tool', { name: s.call[0], arguments: s.call[1] });
    }
  }
  return { mode, calls, instructions, toolsList, exchanges, total: instructions + toolsList + exchanges };
}
