// Per protocol era: start-up (spawn to the tools/list answer on stdout, as the 2025 handshake and as
// a 2026-07-28 client asks: server/discover, then tools/list, each with its _meta envelope) beside
// bare node, and Streamable HTTP throughput in the new era for 1 and 3 replicas behind nginx
// round-robin (the same load balancer the replicas test uses), on the bench's sandbox cluster.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { BIN } from './servers.ts';
import { median, pct } from './measure.ts';
import { NGINX, startNginx } from './nginx.ts';
import { ms, type Report } from './report.ts';

const VERSION = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
};
const SERVE = [BIN, 'serve', '--no-banner', '--log-level', 'INFO', '--persona', 'platform-admin'];

type Era = 'legacy' | 'modern';
/** The requests a client of each era sends first, the last of them tools/list. */
const OPENING: Record<Era, object[]> = {
  legacy: [
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
  ],
  modern: [
    { jsonrpc: '2.0', id: 0, method: 'server/discover', params: { _meta: META } },
    { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } },
  ],
};

/** Spawn to the line answering tools/list (id 1), with each request sent once the one before is answered, as clients do. */
async function startOnce(era: Era, env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, SERVE, { env, stdio: ['pipe', 'pipe', 'ignore'] });
  let buf = '';
  const waiting = new Map<number, () => void>();
  child.stdout.on('data', (d: Buffer) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const m = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      waiting.get(m.id)?.();
    }
  });
  try {
    for (const m of OPENING[era]) {
      const id = (m as { id?: number }).id;
      const answered = id === undefined ? undefined : new Promise<void>((r) => waiting.set(id, r));
      child.stdin.write(`${JSON.stringify(m)}\n`);
      await answered;
    }
    return performance.now() - t0;
  } finally {
    child.kill();
    await new Promise((r) => child.once('exit', r));
  }
}

/** Median start-up per era and of bare `node -e 0`, rounds interleaved so all see the same machine. */
export async function eraStartups(env: Record<string, string>, runs: number) {
  const bare: number[] = [],
    legacy: number[] = [],
    modern: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ['-e', '0'], { env });
    bare.push(performance.now() - t);
    legacy.push(await startOnce('legacy', env));
    modern.push(await startOnce('modern', env));
  }
  return { bareMs: median(bare), legacyMs: median(legacy), modernMs: median(modern) };
}

function serveHttp(env: Record<string, string>): Promise<{ proc: ChildProcess; addr: string }> {
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--transport',
      'http',
      '--stateless',
      '--port',
      '0',
      '--log-level',
      'WARNING',
      '--persona',
      'readonly',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on http:\/\/([^/\s]+)/.exec(err);
      if (m) resolve({ proc, addr: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`the HTTP server exited ${code}: ${err}`)));
  });
}

export interface Throughput {
  replicas: number;
  clients: number;
  calls: number;
  seconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  firstFailure?: string;
}

/** `calls` new-era tools/call requests (list_training_jobs, 20 jobs) from `clients` callers in parallel, through nginx to `replicas` servers. */
export async function throughput(
  env: Record<string, string>,
  replicas: number,
  clients = 32,
  calls = 3000,
): Promise<Throughput> {
  const servers = await Promise.all(Array.from({ length: replicas }, () => serveHttp(env)));
  const lb = await startNginx(servers.map((s) => s.addr));
  try {
    const body = (id: number) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'list_training_jobs', arguments: { limit: 20 }, _meta: META },
      });
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': 'list_training_jobs',
    };
    let failed = 0;
    let firstFailure: string | undefined;
    const one = async (id: number) => {
      const r = await fetch(lb.url, { method: 'POST', headers, body: body(id) });
      const text = await r.text();
      let m: any;
      try {
        m = JSON.parse(text);
      } catch {
        /* an error page of nginx */
      }
      if (!r.ok || !m?.result || m.result.isError) {
        failed++;
        firstFailure ??= `HTTP ${r.status}: ${(m?.result?.content?.[0]?.text ?? m?.error?.message ?? text).slice(0, 160)}`;
      }
    };
    // Warm: each replica's list cache filled, as a running server has it.
    await Promise.all(Array.from({ length: replicas * 4 }, (_, i) => one(i)));
    failed = 0;
    firstFailure = undefined;
    const took: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < calls) {
          const id = next++;
          const s = performance.now();
          await one(id);
          took.push(performance.now() - s);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return {
      replicas,
      clients,
      calls: took.length,
      seconds,
      callsPerSecond: took.length / seconds,
      p50Ms: pct(took, 50),
      p99Ms: pct(took, 99),
      failed,
      firstFailure,
    };
  } finally {
    await lb.stop();
    for (const s of servers) s.proc.kill('SIGKILL');
  }
}

/** The section `npm run bench` prints: start-up per era, then HTTP throughput for 1 and 3 replicas. */
export async function erasSection(report: Report, env: Record<string, string>, runs = 9) {
  const st = await eraStartups(env, runs);
  report.heading(`Start-up per protocol era: spawn to the tools/list answer on stdout (median of ${runs})`);
  report.table(
    ['client', 'requests before tools/list', 'start-up', 'x bare `node -e 0`'],
    [
      ['bare `node -e 0`', '', ms(st.bareMs), '1.00'],
      [
        '2025-11-25 (SDK 1.x)',
        'initialize, notifications/initialized',
        ms(st.legacyMs),
        (st.legacyMs / st.bareMs).toFixed(2),
      ],
      ['2026-07-28 (SDK v2)', 'server/discover', ms(st.modernMs), (st.modernMs / st.bareMs).toFixed(2)],
    ],
  );
  const worst = Math.max(st.legacyMs, st.modernMs) / st.bareMs;
  report.note(
    `Target: both eras within 2.0x bare node: ${worst <= 2.0 ? 'met' : '**not met**'} (${(st.legacyMs / st.bareMs).toFixed(2)}x and ${(st.modernMs / st.bareMs).toFixed(2)}x).`,
  );
  report.record('eraStartup', st);
  if (!NGINX) {
    report.note('HTTP throughput behind nginx not measured: nginx is not installed (apt-get install -y nginx).');
    return;
  }
  const rows: Throughput[] = [];
  for (const n of [1, 3]) rows.push(await throughput(env, n));
  report.heading(
    'Streamable HTTP, 2026-07-28, behind nginx round-robin: 32 callers, 3,000 tools/call list_training_jobs (limit 20)',
  );
  report.table(
    ['replicas', 'calls/s', 'p50', 'p99', 'failed'],
    rows.map((r) => [r.replicas, r.callsPerSecond.toFixed(0), ms(r.p50Ms), ms(r.p99Ms), r.failed]),
  );
  report.note(
    `3 replicas / 1: ${(rows[1].callsPerSecond / rows[0].callsPerSecond).toFixed(2)}x. Every replica, nginx, the sandbox and the callers share this machine's ${cpus().length} cores, so replicas here show that the load spreads over them with no sticky sessions, not what more machines would add.`,
  );
  for (const r of rows)
    if (r.firstFailure) report.note(`First failure with ${r.replicas} replica(s): ${r.firstFailure}`);
  report.record('eraHttp', rows);
}
