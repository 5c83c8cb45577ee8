// The measurements of one server, taken through a real MCP client over stdio: start-up, the
// tools/list it sends, memory, listing TrainJobs, and per-call latency alone and 16 at a time.
import { execFileSync, spawn } from 'node:child_process';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { connect, type ServerUnderTest, type ToolCall } from './servers.ts';
import { requestsServed, rssMb } from './cluster.ts';

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
export const tokens = (v: unknown) => encode(typeof v === 'string' ? v : JSON.stringify(v)).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Startup {
  ms: number;
  tools: number;
  listTokens: number;
  idleRssMb: number;
}

/** Spawns a server and speaks raw JSON-RPC to it: the time until the tools/list answer's line has arrived. */
async function rawStartup(s: ServerUnderTest, env: Record<string, string>) {
  const t0 = performance.now();
  const child = spawn(s.command, s.args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
  let buf = '';
  const answer = (id: number) =>
    new Promise<any>((resolve, reject) => {
      const onData = (d: Buffer) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = JSON.parse(line);
          if (m.id === id) {
            child.stdout.off('data', onData);
            resolve(m);
            return;
          }
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', () => reject(new Error(`${s.label} exited before answering`)));
    });
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
  send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
  });
  await answer(0);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const list = await answer(1);
  const ms = performance.now() - t0;
  await sleep(150);
  const rss = rssMb(child.pid!);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  return { ms, rss, tools: list.result.tools.length as number, listTokens: tokens(list.result) };
}

/**
 * Spawn to the tools/list answer, as bytes on the pipe (a client's own parsing is not the server's
 * time), median of `runs`. Every round starts bare `node -e 0` and each server once, in turn, so all
 * of them see the same machine state.
 */
export async function startups(servers: ServerUnderTest[], env: Record<string, string>, runs: number) {
  const bare: number[] = [];
  const times = new Map<string, number[]>(servers.map((s) => [s.id, []]));
  const rss = new Map<string, number[]>(servers.map((s) => [s.id, []]));
  const facts = new Map<string, { tools: number; listTokens: number }>();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ['-e', '0'], { env });
    bare.push(performance.now() - t);
    for (const s of servers) {
      const r = await rawStartup(s, env);
      times.get(s.id)!.push(r.ms);
      rss.get(s.id)!.push(r.rss);
      facts.set(s.id, { tools: r.tools, listTokens: r.listTokens });
    }
  }
  const out = new Map<string, Startup>();
  for (const s of servers)
    out.set(s.id, { ...facts.get(s.id)!, ms: median(times.get(s.id)!), idleRssMb: median(rss.get(s.id)!) });
  return { bareMs: median(bare), servers: out };
}

export interface Listing {
  requests: number;
  answerTokens: number;
  coldMs: number;
  p50Ms: number;
  rssMb: number;
  calls: number;
  failed?: string;
}

/** The first list call (cold), then `calls` more: requests of one warm call, answer tokens, p50, RSS after. */
export async function listing(
  s: ServerUnderTest,
  env: Record<string, string>,
  url: string,
  calls: number,
): Promise<Listing> {
  const { client, pid } = await connect(s, env);
  try {
    const t0 = performance.now();
    const first: any = await client.callTool(s.listJobs, undefined, { timeout: 300_000 });
    const coldMs = performance.now() - t0;
    const text = (first.content ?? []).map((c: any) => c.text ?? '').join('');
    if (first.isError)
      return {
        requests: 0,
        answerTokens: 0,
        coldMs,
        p50Ms: 0,
        rssMb: rssMb(pid),
        calls: 0,
        failed: text.slice(0, 100),
      };
    // Whatever the first call set going (a watch connecting behind it, say) is not the warm call's.
    await sleep(500);
    const before = await requestsServed(url);
    await client.callTool(s.listJobs, undefined, { timeout: 300_000 });
    const requests = (await requestsServed(url)) - before;
    const lat: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await client.callTool(s.listJobs, undefined, { timeout: 300_000 });
      lat.push(performance.now() - t);
    }
    return { requests, answerTokens: tokens(text), coldMs, p50Ms: median(lat), rssMb: rssMb(pid), calls: calls + 2 };
  } catch (e) {
    return {
      requests: 0,
      answerTokens: 0,
      coldMs: 0,
      p50Ms: 0,
      rssMb: 0,
      calls: 0,
      failed: String((e as Error).message).slice(0, 100),
    };
  } finally {
    await client.close();
  }
}

export interface PerCall {
  sequentialP50Ms: number;
  concurrentP50Ms: number;
  concurrentP95Ms: number;
  failed?: string;
}

/** A call that touches no cluster: p50 of 200 one at a time, and of 50 rounds of 16 in flight. */
export async function perCall(s: ServerUnderTest, env: Record<string, string>): Promise<PerCall> {
  const { client } = await connect(s, env);
  const one = async (c: ToolCall) => {
    const t = performance.now();
    const r: any = await client.callTool(c);
    if (r.isError) throw new Error(JSON.stringify(r.content).slice(0, 100));
    return performance.now() - t;
  };
  try {
    for (let i = 0; i < 20; i++) await one(s.trivial);
    const seq: number[] = [];
    for (let i = 0; i < 200; i++) seq.push(await one(s.trivial));
    const conc: number[] = [];
    for (let i = 0; i < 50; i++) conc.push(...(await Promise.all(Array.from({ length: 16 }, () => one(s.trivial)))));
    return { sequentialP50Ms: median(seq), concurrentP50Ms: median(conc), concurrentP95Ms: pct(conc, 95) };
  } catch (e) {
    return {
      sequentialP50Ms: 0,
      concurrentP50Ms: 0,
      concurrentP95Ms: 0,
      failed: String((e as Error).message).slice(0, 100),
    };
  } finally {
    await client.close();
  }
}

/**
 * The same call on two servers, alternating one call each, so both see the same machine state:
 * p50 alone and with 16 in flight for each (for comparing one server under two settings).
 */
export async function perCallPair(a: ServerUnderTest, b: ServerUnderTest, env: Record<string, string>) {
  const [ca, cb] = [await connect(a, env), await connect(b, env)];
  const one = async (c: typeof ca, s: ServerUnderTest) => {
    const t = performance.now();
    await c.client.callTool(s.trivial);
    return performance.now() - t;
  };
  try {
    for (let i = 0; i < 50; i++) {
      await one(ca, a);
      await one(cb, b);
    }
    const seq = { a: [] as number[], b: [] as number[] },
      conc = { a: [] as number[], b: [] as number[] };
    for (let i = 0; i < 400; i++) {
      seq.a.push(await one(ca, a));
      seq.b.push(await one(cb, b));
    }
    for (let i = 0; i < 50; i++) {
      conc.a.push(...(await Promise.all(Array.from({ length: 16 }, () => one(ca, a)))));
      conc.b.push(...(await Promise.all(Array.from({ length: 16 }, () => one(cb, b)))));
    }
    return {
      a: { sequentialP50Ms: median(seq.a), concurrentP50Ms: median(conc.a) },
      b: { sequentialP50Ms: median(seq.b), concurrentP50Ms: median(conc.b) },
    };
  } finally {
    await ca.client.close();
    await cb.client.close();
  }
}

/** One tool of ours, cold and warm (p50 of `calls`). */
export async function timedCalls(s: ServerUnderTest, env: Record<string, string>, call: ToolCall, calls: number) {
  const { client, pid } = await connect(s, env);
  try {
    const t0 = performance.now();
    const first: any = await client.callTool(call, undefined, { timeout: 300_000 });
    const coldMs = performance.now() - t0;
    const lat: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await client.callTool(call);
      lat.push(performance.now() - t);
    }
    return {
      coldMs,
      p50Ms: median(lat),
      rssMb: rssMb(pid),
      data: first.structuredContent?.data,
      failed: first.isError ? JSON.stringify(first.content).slice(0, 100) : undefined,
    };
  } finally {
    await client.close();
  }
}
