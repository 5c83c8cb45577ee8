// npm run bench: start-up, tools/list size, idle memory, listing 1,000 TrainJobs, per-call
// overhead, and the sandbox's own list latency and memory. Prints figures; asserts nothing.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { INSTRUCTIONS } from '../generated/index.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'kubeflow-mcp.mjs');
const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const tokens = (v: unknown) => encode(typeof v === 'string' ? v : JSON.stringify(v)).length;
const row = (...cells: Array<string | number>) => console.log(`| ${cells.join(' | ')} |`);

async function connect(args: string[], env: Record<string, string> = {}) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'serve', '--no-banner', '--log-level', 'ERROR', ...args], env: { ...(process.env as Record<string, string>), HOME: '/nonexistent', ...env }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

async function startup() {
  const bare: number[] = [], sdk: number[] = [], ours: number[] = [], rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    execFileSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - t);
    t = performance.now();
    // The MCP SDK's own import (it builds its zod schemas at load): a floor for any server on it.
    execFileSync(process.execPath, ['--input-type=module', '-e', "await import('@modelcontextprotocol/sdk/server/index.js'); await import('@modelcontextprotocol/sdk/server/stdio.js')"], { cwd: ROOT });
    sdk.push(performance.now() - t);
    t = performance.now();
    const { client, transport } = await connect(['--persona', 'platform-admin']);
    await client.listTools();
    ours.push(performance.now() - t);
    rss.push(rssMb(transport.pid!));
    await client.close();
  }
  console.log('\n## Start-up (stdio, spawn -> tools/list answered), medians of', RUNS);
  row('figure', 'value'); row('---', '---');
  row('bare `node -e 0`', `${median(bare).toFixed(0)} ms`);
  row('bare node importing the MCP SDK server (floor)', `${median(sdk).toFixed(0)} ms (${(median(sdk) / median(bare)).toFixed(2)}x)`);
  row('kubeflow-mcp serve -> tools/list', `${median(ours).toFixed(0)} ms`);
  row('ratio to bare node', `${(median(ours) / median(bare)).toFixed(2)}x`);
  row('idle RSS after tools/list', `${median(rss).toFixed(1)} MB`);
}

async function toolList() {
  console.log('\n## tools/list and instructions, o200k tokens');
  row('persona', 'tools', 'tools/list tokens', 'instructions full / compact / minimal'); row('---', '---', '---', '---');
  for (const persona of Object.keys(INSTRUCTIONS)) {
    const { client } = await connect(['--persona', persona]);
    const list = await client.listTools();
    const i = INSTRUCTIONS[persona];
    row(persona, list.tools.length, tokens(list), `${tokens(i.full)} / ${tokens(i.compact)} / ${tokens(i.minimal)}`);
    await client.close();
  }
}

async function thousandJobs() {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-bench-'));
  const kc = join(dir, 'kc');
  const sb = spawn(process.execPath, [BIN, 'sandbox', '--kubeconfig', kc, '--time-scale', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => sb.stdout.on('data', (d) => { const m = String(d).match(/listening on (http:\S+)/); if (m) resolve(m[1]); }));
  const base = `${url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`;
  let t = performance.now();
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: `job-${String(i + k).padStart(4, '0')}` }, spec: { runtimeRef: { name: 'torch-distributed' }, suspend: (i + k) % 3 === 0, trainer: { numNodes: 1 } } }) }).then((r) => r.text())));
  }
  const createMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 1500));
  const listMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 10; i++) { t = performance.now(); const text = await (await fetch(base)).text(); listMs.push(performance.now() - t); bytes = text.length; }
  const sbRss = rssMb(sb.pid!);

  const { client } = await connect(['--kubeconfig', kc, '--persona', 'readonly']);
  const stats = async () => (await (await fetch(`${url}/sandbox/v1/stats`)).json()).requests as number;
  await client.callTool({ name: 'list_training_jobs', arguments: {} }); // warm: kubeconfig, client-node
  const before = await stats();
  const res: any = await client.callTool({ name: 'list_training_jobs', arguments: {} });
  const requests = (await stats()) - before;
  const lat: number[] = [];
  for (let i = 0; i < 10; i++) { t = performance.now(); await client.callTool({ name: 'list_training_jobs', arguments: {} }); lat.push(performance.now() - t); }
  const data = JSON.parse(res.content[0].text).data;
  await client.close();
  sb.kill('SIGTERM');

  console.log('\n## 1,000 TrainJobs on the sandbox (a third suspended, the rest running through the controller)');
  row('figure', 'value'); row('---', '---');
  row('create 1,000 (50 concurrent POSTs)', `${(createMs / 1000).toFixed(1)} s`);
  row('sandbox: GET list of 1,000, median of 10', `${median(listMs).toFixed(0)} ms (${(bytes / 1e6).toFixed(1)} MB JSON)`);
  row('sandbox RSS with 1,000 jobs and their pods', `${sbRss.toFixed(0)} MB`);
  row('list_training_jobs: API requests', requests);
  row('list_training_jobs: answer tokens (default page)', `${tokens(res.content[0].text)} (${data.jobs.length} rows of ${data.total}; counts ${JSON.stringify(data.counts_by_status)})`);
  row('list_training_jobs: call latency, median of 10', `${median(lat).toFixed(0)} ms`);
}

async function overhead() {
  const { runTool } = await import('../runtime/pipeline.ts');
  const { selectTools } = await import('../runtime/server.ts');
  const { createLogger } = await import('../runtime/logger.ts');
  const { Kube } = await import('../runtime/k8s/client.ts');
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write(_c, _e, done) { done(); } });
  const { log, ring } = createLogger({ level: 'INFO', format: 'json', destination: sink });
  const tools = selectTools({ persona: 'platform-admin', clients: ['trainer'], policy: {} });
  const state = { kube: new Kube({ kubeconfigYaml: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n' }), persona: 'platform-admin', bypassOwnership: true, policy: {}, log, ring, startedAt: Date.now(), version: 'bench', tools: new Map(tools.map((t) => [t.name, t])), allTools: tools };
  const measure = async (name: string, args: Record<string, unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < 3000; i++) { const t = performance.now(); await runTool(state as any, name, args); xs.push((performance.now() - t) * 1000); }
    return xs.slice(500);
  };
  const ok = await measure('get_server_logs', { limit: 1 });
  const bad = await measure('get_training_job', { name: 'Bad_Name' });
  const est = await measure('estimate_resources', { model: 'google/gemma-2b' });
  console.log('\n## Server-side overhead per call (in-process: validation, policy, envelope, audit log), 2,500 calls');
  row('call', 'p50', 'p95'); row('---', '---', '---');
  row('get_server_logs (trivial handler)', `${median(ok).toFixed(0)} µs`, `${pct(ok, 95).toFixed(0)} µs`);
  row('invalid input (rejected before Kubernetes)', `${median(bad).toFixed(0)} µs`, `${pct(bad, 95).toFixed(0)} µs`);
  row('estimate_resources (offline)', `${median(est).toFixed(0)} µs`, `${pct(est, 95).toFixed(0)} µs`);
}

await startup();
await toolList();
await thousandJobs();
await overhead();
process.exit(0);
