// Progressive and semantic modes through a real MCP client: a few meta-tools instead of every tool,
// the seed workflow run through them, every check of full mode still holding, small tools/list
// answers (the ranker's accuracy is measured in tool-search.unit.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { TOOLS } from '../generated/index.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

const servers: Connected[] = [];
const start = async (mode: string, persona: string) => {
  const c = await connect(['--sandbox', '--time-scale', '0.02', '--mode', mode, '--persona', persona]);
  servers.push(c);
  return c;
};
afterAll(async () => {
  for (const s of servers) await s.close();
});

const exec = (c: Connected, name: string, args: Record<string, unknown> = {}, opts: Record<string, unknown> = {}) =>
  call(c.client, 'execute_tool', { name, arguments: args }, opts);

describe('progressive mode', () => {
  let ds: Connected, ro: Connected;
  beforeAll(async () => {
    ds = await start('progressive', 'data-scientist');
    ro = await start('progressive', 'readonly');
  });

  it('lists three meta-tools in under 350 tokens and says how to reach the rest', async () => {
    const { tools } = await ds.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_tools', 'describe_tools', 'execute_tool']);
    expect(encode(JSON.stringify({ tools })).length).toBeLessThan(350);
    expect(ds.client.getInstructions()).toContain('execute_tool(name, arguments)');
  });

  it('runs the seed workflow: plan, discover, train, monitor', async () => {
    const listed = await call(ds.client, 'list_tools', { phase: 'training' });
    expect(listed.data.phases.map((g: any) => g.phase)).toEqual(['training']);
    expect(listed.data.phases[0].tools.map((t: any) => t.name)).toEqual(
      expect.arrayContaining(['fine_tune', 'run_custom_training']),
    );
    const described = await call(ds.client, 'describe_tools', { names: ['fine_tune'] });
    expect(described.data.tools[0].input_schema.required).toEqual(['model', 'dataset']);
    expect(
      (await exec(ds, 'pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' })).data.tool_selection.recommended,
    ).toBe('fine_tune');
    expect((await exec(ds, 'list_runtimes')).data.total).toBeGreaterThan(0);
    // Llama is gated: without a token its model download fails, as on Hugging Face.
    const args = {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      name: 'via-progressive',
      hf_token: 'hf_ModesTestToken01',
    };
    const preview = await exec(ds, 'fine_tune', args);
    expect(preview.status).toBe('preview');
    expect((await exec(ds, 'list_training_jobs')).data.total).toBe(0);
    expect((await exec(ds, 'fine_tune', { ...args, confirmed: true })).data.job_name).toBe('via-progressive');
    const progress: number[] = [];
    const waited = await exec(
      ds,
      'wait_for_training',
      { name: 'via-progressive', timeout_seconds: 60, polling_interval: 0.1 },
      { onprogress: (p: any) => progress.push(p.progress) },
    );
    expect(waited.data.status).toBe('Complete');
    expect(progress.length).toBeGreaterThan(0);
    expect((await exec(ds, 'get_training_logs', { name: 'via-progressive' })).data.logs).toMatch(/Loss/);
  });

  it('keeps every check: persona, validation, the preview gate', async () => {
    expect(
      (
        await exec(ro, 'fine_tune', {
          model: 'hf://google/gemma-2b',
          dataset: 'hf://tatsu-lab/alpaca',
          confirmed: true,
        })
      ).error_code,
    ).toBe('PERMISSION_DENIED');
    expect((await call(ro.client, 'describe_tools', { names: ['fine_tune'] })).error_code).toBe('VALIDATION_ERROR');
    expect(
      (await call(ro.client, 'list_tools')).data.phases.flatMap((g: any) => g.tools.map((t: any) => t.name)),
    ).not.toContain('fine_tune');
    expect((await exec(ds, 'get_training_logs', { name: 'x', tail_lines: 0 })).error).toContain("'tail_lines'");
    expect((await exec(ds, 'delete_training_job', { name: 'via-progressive' })).status).toBe('preview');
    expect((await exec(ds, 'get_training_job', { name: 'via-progressive' })).success).toBe(true);
    expect((await call(ds.client, 'execute_tool', { name: 'fine_tune', arguments: 'oops' })).error_code).toBe(
      'VALIDATION_ERROR',
    );
    await expect(ds.client.callTool({ name: 'fine_tune', arguments: {} })).rejects.toThrow(/progressive mode/);
  });
});

describe('semantic mode', () => {
  let ds: Connected, ro: Connected;
  beforeAll(async () => {
    ds = await start('semantic', 'data-scientist');
    ro = await start('semantic', 'readonly');
  });

  it('lists two meta-tools in under 300 tokens', async () => {
    const { tools } = await ds.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['find_tools', 'execute_tool']);
    expect(encode(JSON.stringify({ tools })).length).toBeLessThan(300);
  });

  it('finds the tool for a request in plain words and runs the seed workflow with it', async () => {
    const found = await call(ds.client, 'find_tools', { query: 'fine-tune gemma on the alpaca dataset', top_k: 3 });
    expect(found.data.tools[0].name).toBe('fine_tune');
    // Name, one line and the required inputs; the full schema stays with the pipeline.
    expect(found.data.tools[0].required).toEqual({ model: 'string', dataset: 'string' });
    expect(found.data.tools[0].input_schema).toBeUndefined();
    const answer = await ds.client.callTool({
      name: 'find_tools',
      arguments: { query: 'fine-tune gemma on the alpaca dataset', top_k: 10 },
    });
    expect(encode((answer.content as any)[0].text).length).toBeLessThanOrEqual(300);
    const plan = (
      await call(ds.client, 'find_tools', { query: 'is my cluster ready, what should I check first' })
    ).data.tools.map((t: any) => t.name);
    expect(plan).toEqual(expect.arrayContaining(['pre_flight']));
    const args = {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      name: 'via-semantic',
      hf_token: 'hf_ModesTestToken02',
    };
    expect((await exec(ds, 'fine_tune', args)).status).toBe('preview');
    expect((await exec(ds, 'fine_tune', { ...args, confirmed: true })).success).toBe(true);
    expect(
      (await exec(ds, 'wait_for_training', { name: 'via-semantic', timeout_seconds: 60, polling_interval: 0.1 })).data
        .status,
    ).toBe('Complete');
  });

  it('never offers or runs what the persona lacks', async () => {
    const found = await call(ro.client, 'find_tools', { query: 'fine-tune gemma on alpaca', top_k: 10 });
    expect(found.data.tools.map((t: any) => t.name)).not.toContain('fine_tune');
    expect(
      (await exec(ro, 'fine_tune', { model: 'hf://google/gemma-2b', dataset: 'hf://tatsu-lab/alpaca' })).error_code,
    ).toBe('PERMISSION_DENIED');
    expect((await call(ro.client, 'find_tools', { query: 'x', top_k: 99 })).error_code).toBe('VALIDATION_ERROR');
  });
});

describe('an embeddings endpoint as the ranker', () => {
  it("ranks by cosine similarity of the endpoint's vectors, and falls back to the lexical ranker when it fails", async () => {
    const { createServer } = await import('node:http');
    // A stand-in endpoint: one dimension per word, so texts sharing words are close.
    let calls = 0,
      failing = false;
    const vocab = new Map<string, number>();
    const vec = (text: string) => {
      const v = new Array(512).fill(0);
      for (const w of text
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter(Boolean)) {
        if (!vocab.has(w)) vocab.set(w, vocab.size % 512);
        v[vocab.get(w)!] += 1;
      }
      return v;
    };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        calls++;
        if (failing) {
          res.writeHead(503);
          res.end();
          return;
        }
        const { input } = JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: input.map((t: string) => ({ embedding: vec(t) })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { rankerFor } = await import('../runtime/modes/ranker.ts');
      const tools = TOOLS.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        keywords: t.keywords,
        phase: t.phase,
        module: t.module,
      }));
      const ranker = rankerFor(tools, {
        KUBEFLOW_MCP_EMBEDDINGS_URL: `http://127.0.0.1:${(server.address() as any).port}/v1/embeddings`,
      });
      const r = await ranker.rank('Logs of one step pod, tail and byte capped', 3);
      expect(r[0].name).toBe('get_training_logs');
      expect(r[0].score).toBeLessThanOrEqual(1);
      expect(calls).toBe(2); // the tools once, then the query
      failing = true;
      const fallback = await ranker.rank('fine-tune gemma on alpaca', 3);
      expect(fallback[0].name).toBe('fine_tune');
    } finally {
      server.close();
    }
  });
});

// The offline ranker's accuracy on both splits of user-phrased requests, per persona, and the size
// of find_tools answers: test/tool-search.unit.test.ts.
