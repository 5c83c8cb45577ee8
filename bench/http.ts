// HTTP for a team: one server (`serve --transport http`) and 50 MCP sessions, each calling a read
// tool over and over. Throughput, per-call p50/p99, and the server's RSS before the calls, after
// 10,000 and after another 10,000 (growth that goes on from the first to the second is a leak;
// growth that stops is the heap settling).
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN } from './servers.ts';
import { rssMb } from './cluster.ts';
import { pct } from './measure.ts';

export interface HttpFigures {
  sessions: number;
  calls: number;
  seconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssStartMb: number;
  rssEndMb: number;
  rssSecondMb: number;
  failed: number;
}

export async function httpLoad(env: Record<string, string>, sessions = 50, calls = 10_000): Promise<HttpFigures> {
  const proc = spawn(
    process.execPath,
    [BIN, 'serve', '--transport', 'http', '--port', '0', '--log-level', 'WARNING', '--persona', 'readonly'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      proc.stderr!.on('data', (d) => {
        err += d;
        const m = /listening on (http:\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      proc.on('exit', (code) => reject(new Error(`the HTTP server exited ${code}: ${err}`)));
    });
    const clients = await Promise.all(
      Array.from({ length: sessions }, async () => {
        const c = new Client({ name: 'bench-http', version: '1' });
        await c.connect(new StreamableHTTPClientTransport(new URL(url)));
        return c;
      }),
    );
    // A busy machine may answer slowly; a slow call is a figure (p99), not the end of the run.
    const call = (c: Client) =>
      c.callTool({ name: 'list_training_jobs', arguments: { limit: 20 } }, undefined, { timeout: 300_000 });
    // Warm: the list cache is filled once, as a running server has it.
    await Promise.all(clients.map(call));
    const rssStartMb = rssMb(proc.pid!);
    let failed = 0;
    /** `calls` calls spread over the sessions, each session calling again as soon as it has its answer. */
    const round = async () => {
      const took: number[] = [];
      let next = 0;
      await Promise.all(
        clients.map(async (c) => {
          while (next < calls) {
            next++;
            const s = performance.now();
            const r: any = await call(c);
            took.push(performance.now() - s);
            if (r.isError) failed++;
          }
        }),
      );
      return took;
    };
    const t0 = performance.now();
    const took = await round();
    const seconds = (performance.now() - t0) / 1000;
    const rssEndMb = rssMb(proc.pid!);
    await round();
    const rssSecondMb = rssMb(proc.pid!);
    await Promise.all(clients.map((c) => c.close()));
    return {
      sessions,
      calls: took.length,
      seconds,
      callsPerSecond: took.length / seconds,
      p50Ms: pct(took, 50),
      p99Ms: pct(took, 99),
      rssStartMb,
      rssEndMb,
      rssSecondMb,
      failed,
    };
  } finally {
    proc.kill('SIGKILL');
  }
}
