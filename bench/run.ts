// npm run bench [-- --peers]: start-up, tools/list size, idle memory, listing 1,000 TrainJobs,
// per-call overhead, and the sandbox's own list latency and memory. With --peers, the two public
// Kubernetes MCP servers (installed from npm into a cache folder) are measured in the same run
// against the same sandbox, and ratios are printed. Prints figures; asserts nothing.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { parse as parseYaml } from 'yaml';
import { assembleInstructions, INSTRUCTION_SOURCE, MODULES, PERSONA_TOOLS, TOOLS } from '../generated/index.ts';
import { LexicalRanker } from '../runtime/modes/ranker.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'kubeflow-mcp.mjs');
const RUNS = 7;
const PEERS = process.argv.includes('--peers');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const tokens = (v: unknown) => encode(typeof v === 'string' ? v : JSON.stringify(v)).length;
const row = (...cells: Array<string | number>) => console.log(`| ${cells.join(' | ')} |`);
const ms = (x: number) => `${x.toFixed(0)} ms`;

interface ServerUnderTest {
  label: string;
  command: string;
  args: string[];
  /** The call that lists the namespace's TrainJobs with this server's own tools. */
  listJobs: { name: string; arguments: Record<string, unknown> };
}

async function connect(s: ServerUnderTest, env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: s.command, args: s.args, env: { ...(process.env as Record<string, string>), HOME: mkdtempSync(join(tmpdir(), 'kfmcp-home-')), ...env }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

/** Spawn-to-tools/list time, tools/list tokens and idle RSS, medians of RUNS. */
async function startupOf(s: ServerUnderTest, env: Record<string, string>) {
  const times: number[] = [], rss: number[] = [];
  let listTokens = 0, count = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const { client, transport } = await connect(s, env);
    const list = await client.listTools();
    times.push(performance.now() - t);
    listTokens = tokens(list);
    count = list.tools.length;
    await new Promise((r) => setTimeout(r, 100));
    rss.push(rssMb(transport.pid!));
    await client.close();
  }
  return { startup: median(times), listTokens, count, rss: median(rss) };
}

/** One list of 1,000 TrainJobs through the server: API requests, answer tokens, latency. */
async function listThousand(s: ServerUnderTest, env: Record<string, string>, url: string) {
  const { client } = await connect(s, env);
  const requests = async () => (await (await fetch(`${url}/sandbox/v1/stats`)).json()).requests as number;
  try {
    await client.callTool(s.listJobs).catch(() => undefined); // warm-up (kubeconfig, discovery caches)
    const before = await requests();
    const res: any = await client.callTool(s.listJobs);
    const used = (await requests()) - before;
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) { const t = performance.now(); await client.callTool(s.listJobs); lat.push(performance.now() - t); }
    const text = (res.content ?? []).map((c: any) => c.text ?? '').join('');
    return { requests: used, answerTokens: tokens(text), latency: median(lat), failed: !!res.isError, note: res.isError ? text.slice(0, 120) : '' };
  } catch (e) {
    return { requests: 0, answerTokens: 0, latency: 0, failed: true, note: String((e as Error).message).slice(0, 120) };
  } finally { await client.close(); }
}

async function startSandboxProcess() {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-bench-'));
  const kc = join(dir, 'kc');
  const proc = spawn(process.execPath, [BIN, 'sandbox', '--kubeconfig', kc, '--time-scale', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => proc.stdout!.on('data', (d) => { const m = String(d).match(/listening on (http:\S+)/); if (m) resolve(m[1]); }));
  return { proc, url, kc };
}

async function createThousand(url: string) {
  const base = `${url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`;
  const t = performance.now();
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => fetch(base, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: `job-${String(i + k).padStart(4, '0')}` }, spec: { runtimeRef: { name: 'torch-distributed' }, suspend: (i + k) % 3 === 0, trainer: { numNodes: 1 } } }),
    }).then((r) => r.text())));
  }
  return performance.now() - t;
}

function installPeers(): ServerUnderTest[] {
  const dir = join(homedir(), '.cache', 'kubeflow-mcp-bench-peers');
  if (!existsSync(join(dir, 'node_modules', 'kubernetes-mcp-server'))) {
    mkdirSync(dir, { recursive: true });
    console.error('installing peers into', dir);
    execFileSync('npm', ['i', '--no-audit', '--no-fund', '--prefix', dir, 'mcp-server-kubernetes@4.1.7', 'kubernetes-mcp-server@0.0.67'], { stdio: 'inherit' });
  }
  return [
    { label: 'Go peer kubernetes-mcp-server 0.0.67 (npm launcher)', command: join(dir, 'node_modules', '.bin', 'kubernetes-mcp-server'), args: [], listJobs: { name: 'resources_list', arguments: { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', namespace: 'default' } } },
    { label: 'TS peer mcp-server-kubernetes 4.1.7', command: process.execPath, args: [join(dir, 'node_modules', 'mcp-server-kubernetes', 'dist', 'index.js')], listJobs: { name: 'kubectl_get', arguments: { resourceType: 'trainjobs', namespace: 'default', output: 'json' } } },
  ];
}

const ours: ServerUnderTest = { label: 'kubeflow-mcp (platform-admin)', command: process.execPath, args: [BIN, 'serve', '--no-banner', '--log-level', 'ERROR', '--persona', 'platform-admin'], listJobs: { name: 'list_training_jobs', arguments: {} } };

async function main() {
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) { const t = performance.now(); execFileSync(process.execPath, ['-e', '0']); bare.push(performance.now() - t); }
  const sdk: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ['--input-type=module', '-e', "await import('@modelcontextprotocol/sdk/server/index.js'); await import('@modelcontextprotocol/sdk/server/stdio.js')"], { cwd: ROOT });
    sdk.push(performance.now() - t);
  }

  const sb = await startSandboxProcess();
  const env = { KUBECONFIG: sb.kc };
  const servers = [ours, ...(PEERS ? installPeers() : [])];
  // Start-up is measured while the sandbox is idle; the 1,000 running jobs would load the CPU.
  const starts = [];
  for (const s of servers) starts.push(await startupOf(s, env));
  const createMs = await createThousand(sb.url);
  await new Promise((r) => setTimeout(r, 1500));
  const listMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 10; i++) { const t = performance.now(); const text = await (await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs`)).text(); listMs.push(performance.now() - t); bytes = text.length; }
  const sbRss = rssMb(sb.proc.pid!);

  const results: Array<{ s: ServerUnderTest; st: Awaited<ReturnType<typeof startupOf>>; l: Awaited<ReturnType<typeof listThousand>> }> = [];
  for (const [i, s] of servers.entries()) results.push({ s, st: starts[i], l: await listThousand(s, env, sb.url) });
  // Completions of a job name among the 1,000 (completion/complete for a prompt argument).
  const completeMs: number[] = [];
  {
    const { client } = await connect(ours, env);
    await client.complete({ ref: { type: 'ref/prompt', name: 'troubleshoot_training_job' }, argument: { name: 'job_name', value: 'job-01' } });
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await client.complete({ ref: { type: 'ref/prompt', name: 'troubleshoot_training_job' }, argument: { name: 'job_name', value: `job-0${i}` } });
      completeMs.push(performance.now() - t);
    }
    await client.close();
  }

  console.log(`\n## Servers, stdio, medians (start-up of ${RUNS}; list latency of 5)`);
  console.log(`Bare \`node -e 0\`: ${ms(median(bare))}. Bare node importing the MCP SDK server and stdio transport (unbundled): ${ms(median(sdk))}.\n`);
  row('server', 'start -> tools/list', 'x bare node', 'tools', 'tools/list tokens', 'idle RSS', 'list 1,000 TrainJobs: requests / answer tokens / latency');
  row('---', '---', '---', '---', '---', '---', '---');
  for (const { s, st, l } of results) {
    row(s.label, ms(st.startup), (st.startup / median(bare)).toFixed(2), st.count, st.listTokens, `${st.rss.toFixed(1)} MB`, l.failed ? `failed: ${l.note}` : `${l.requests} / ${l.answerTokens} / ${ms(l.latency)}`);
  }
  if (results.length > 1) {
    const o = results[0];
    console.log('\nRatios (peer / ours): higher means ours is smaller or faster.\n');
    row('peer', 'start-up', 'tools/list tokens', 'list answer tokens', 'list latency'); row('---', '---', '---', '---', '---');
    for (const { s, st, l } of results.slice(1)) {
      row(s.label, (st.startup / o.st.startup).toFixed(2), (st.listTokens / o.st.listTokens).toFixed(2), l.failed ? 'failed' : (l.answerTokens / o.l.answerTokens).toFixed(1), l.failed ? 'failed' : (l.latency / o.l.latency).toFixed(2));
    }
  }

  console.log('\n## Per persona: tools/list and instructions, o200k tokens');
  row('persona', 'tools', 'tools/list tokens', 'instructions full / compact / minimal'); row('---', '---', '---', '---');
  // The instructions as served with the default client modules (trainer and the always-on ones).
  const served = new Set(TOOLS.filter((t) => t.module === 'trainer' || MODULES[t.module].always).map((t) => t.name));
  for (const [p, all] of Object.entries(PERSONA_TOOLS)) {
    const names = all.filter((n) => served.has(n));
    const i = Object.fromEntries((['full', 'compact', 'minimal'] as const).map((t) => [t, assembleInstructions(INSTRUCTION_SOURCE, new Set(names), t)])) as Record<'full' | 'compact' | 'minimal', string>;
    const { client } = await connect({ ...ours, args: [...ours.args.slice(0, -2), '--persona', p] }, env);
    const list = await client.listTools();
    await client.close();
    row(p, list.tools.length, tokens(list), `${tokens(i.full)} / ${tokens(i.compact)} / ${tokens(i.minimal)}`);
  }

  console.log('\n## Per mode (platform-admin): tools/list and instructions, o200k tokens');
  row('mode', 'tools listed', 'tools/list tokens', 'instructions full / minimal', 'target'); row('---', '---', '---', '---', '---');
  for (const [mode, target] of [['full', 2500], ['progressive', 350], ['semantic', 300]] as const) {
    const texts: Record<string, string> = {};
    let listed: any;
    for (const tier of ['full', 'minimal']) {
      const { client } = await connect({ ...ours, args: [...ours.args, '--mode', mode, '--instruction-tier', tier] }, env);
      listed = await client.listTools();
      texts[tier] = client.getInstructions() ?? '';
      await client.close();
    }
    row(mode, listed.tools.length, tokens(listed), `${tokens(texts.full)} / ${tokens(texts.minimal)}`, `under ${target}: ${tokens(listed) < target ? 'met' : '**not met**'}`);
  }

  console.log('\n## find_tools (semantic mode), offline lexical ranker, on bench/tool-search-queries.yaml');
  const queries: Array<{ q: string; want: string[] }> = parseYaml(readFileSync(join(ROOT, 'bench', 'tool-search-queries.yaml'), 'utf8')).queries;
  const ranker = new LexicalRanker(TOOLS.map((t) => ({ name: t.name, title: t.title, description: t.description, keywords: t.keywords, phase: t.phase, module: t.module })));
  let top1 = 0, top3 = 0;
  const rankMs: number[] = [];
  for (const { q, want } of queries) {
    const t0 = performance.now();
    const r = await ranker.rank(q, 3);
    rankMs.push(performance.now() - t0);
    if (want.includes(r[0]?.name)) top1++;
    if (r.some((x) => want.includes(x.name))) top3++;
  }
  row('requests', 'top-1', 'top-3', 'ranking p50'); row('---', '---', '---', '---');
  row(queries.length, `${((100 * top1) / queries.length).toFixed(1)} %`, `${((100 * top3) / queries.length).toFixed(1)} %`, `${(median(rankMs) * 1000).toFixed(0)} µs`);

  console.log('\n## Sandbox with 1,000 TrainJobs (a third suspended, the rest running through the controller)');
  row('figure', 'value'); row('---', '---');
  row('create 1,000 (50 concurrent POSTs)', `${(createMs / 1000).toFixed(1)} s`);
  row('GET list of 1,000, median of 10', `${ms(median(listMs))} (${(bytes / 1e6).toFixed(1)} MB JSON)`);
  row('RSS with 1,000 jobs and their pods', `${sbRss.toFixed(0)} MB`);
  row('completion/complete of a job name among 1,000, median of 10 (target under 50 ms)', ms(median(completeMs)));
  sb.proc.kill('SIGTERM');

  await overhead();
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
  console.log('\n## Server-side overhead per call (in-process: validation, policy, envelope, audit log), 2,500 calls');
  row('call', 'p50', 'p95'); row('---', '---', '---');
  for (const [label, name, args] of [['get_server_logs (trivial handler)', 'get_server_logs', { limit: 1 }], ['invalid input (rejected before Kubernetes)', 'get_training_job', { name: 'Bad_Name' }], ['estimate_resources (offline)', 'estimate_resources', { model: 'google/gemma-2b' }]] as const) {
    const xs = await measure(name, args);
    row(label, `${median(xs).toFixed(0)} µs`, `${pct(xs, 95).toFixed(0)} µs`);
  }
}

if (process.argv.includes('--overhead-only')) await overhead();
else await main();
process.exit(0);
