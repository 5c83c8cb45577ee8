// Replicas without sticky sessions: three `serve --transport http --stateless` processes on one
// sandbox cluster behind Debian's nginx (round-robin, one worker, so consecutive requests go to
// consecutive replicas), and clients that talk only to nginx. Every replica reads the same
// cluster and derives the same signing key from the ownership Secret there, so:
// - the 2026-07-28 client (SDK v2) runs the seed workflow, its confirmation's two rounds answered
//   by different replicas, and its wait as a task whose tasks/get polls other replicas answer
//   (the task's state is the TrainJob's), even after the replica that made it is gone;
// - a 2025-11-25 client (SDK 1.x) runs the same workflow against the --stateless replicas;
// - ownership holds on every replica (another caller cannot delete the job; its owner can, anywhere);
// - a subscriptions/listen stream on one replica hears of a change made through another;
// - a confirmation accepted on one replica is refused when replayed on another (the cluster marks it used);
// - rate limits hold in total: each replica keeps its share, so a caller gets at most the burst at once.
// Skipped where nginx is not installed (`apt-get install -y nginx`; .ci/run installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN } from './helpers/mcp.ts';
import { serveHttp } from './helpers/serve-http.ts';
import { NGINX, startNginx, UPSTREAM_HEADER, type Balancer } from '../bench/nginx.ts';

const ISSUER = 'https://issuer.replicas.test';
const AUDIENCE = 'kubeflow-mcp';
const VERSION = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const RATE = 6;
const BURST = 12;
const REPLICAS = 3;
/** Seconds for an emptied bucket to fill again. */
const REFILL_MS = (1000 * BURST) / RATE + 300;
const JOB_ARGS = (name: string) => ({
  model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-llama3.2-1b',
  name,
  hf_token: 'hf_ReplicaSeedToken42',
  resources_per_node: { gpu: 1 },
});

const dir = mkdtempSync(join(tmpdir(), 'kfmcp-replicas-'));
const kubeconfig = join(dir, 'sandbox.kubeconfig');
let sandbox: ChildProcess;
let jwks: http.Server;
let lb: Balancer;
const replicas: Array<{ url: string; proc: ChildProcess; addr: string }> = [];
const tokens: Record<string, string> = {};

/** The sandbox once, in a process of its own, for the three replicas to share. */
function startSandbox(): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'sandbox', '--kubeconfig', kubeconfig, '--time-scale', '0.02'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: '/nonexistent-home' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    p.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('kubeconfig written to')) resolve(p);
    });
    p.stderr!.on('data', (d) => {
      out += d;
    });
    p.on('exit', (code) => reject(new Error(`sandbox exited ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  if (!NGINX) return;
  const key = { ...(await generateKeyPair('RS256', { extractable: true })), kid: 'r1' };
  const published = [{ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: 'RS256', use: 'sig' }];
  jwks = http.createServer((_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
  for (const sub of ['alice', 'bob']) {
    tokens[sub] = await new SignJWT({ groups: [] })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key.privateKey);
  }
  writeFileSync(
    join(dir, 'policy.yaml'),
    'identity:\n  callers:\n    - match: {subjects: [alice, bob]}\n      persona: ml-engineer\n',
  );
  sandbox = await startSandbox();
  const env = {
    KUBEFLOW_MCP_POLICY: join(dir, 'policy.yaml'),
    KUBEFLOW_MCP_RATE_LIMIT: String(RATE),
    KUBEFLOW_MCP_RATE_BURST: String(BURST),
    KUBEFLOW_MCP_REPLICAS: String(REPLICAS),
    KUBEFLOW_MCP_SHUTDOWN_GRACE_SECONDS: '1',
  };
  const args = [
    '--stateless',
    '--kubeconfig',
    kubeconfig,
    '--jwks-url',
    jwksUrl,
    '--jwt-issuer',
    ISSUER,
    '--jwt-audience',
    AUDIENCE,
  ];
  for (const r of await Promise.all(Array.from({ length: REPLICAS }, (_, i) => i).map(() => serveHttp(args, env))))
    replicas.push({ url: r.url, proc: r.proc, addr: new URL(r.url).host });
  lb = await startNginx(replicas.map((r) => r.addr));
}, 180_000);

afterAll(async () => {
  await lb?.stop();
  for (const r of replicas) r.proc.kill('SIGKILL');
  sandbox?.kill('SIGKILL');
  jwks?.close();
});

/** Which replica answered each request, in order, with the method it was. */
type Seen = Array<{ method: string; name?: string; upstream: string }>;
function recordingFetch(seen: Seen): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const h = new Headers(init?.headers);
    let method = h.get('mcp-method') ?? '';
    if (!method && typeof init?.body === 'string') {
      try {
        method = JSON.parse(init.body).method ?? '';
      } catch {
        /* not JSON */
      }
    }
    seen.push({ method, name: h.get('mcp-name') ?? undefined, upstream: res.headers.get(UPSTREAM_HEADER) ?? '' });
    return res;
  };
}

const meta = (capabilities: Record<string, unknown>) => ({
  'io.modelcontextprotocol/protocolVersion': VERSION,
  'io.modelcontextprotocol/clientCapabilities': capabilities,
  'io.modelcontextprotocol/clientInfo': { name: 'replicas-test', version: '1' },
});
let rpcId = 1000;
/** One new-era request through nginx, as the revision puts it on the wire; the result and the replica that answered. */
async function rpc(
  who: string,
  method: string,
  params: Record<string, any>,
  capabilities: Record<string, unknown> = {},
): Promise<{ result?: any; error?: any; upstream: string }> {
  const name = params.name ?? params.taskId ?? params.uri;
  const res = await fetch(lb.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${tokens[who]}`,
      'mcp-protocol-version': VERSION,
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method, params: { ...params, _meta: meta(capabilities) } }),
  });
  const upstream = res.headers.get(UPSTREAM_HEADER) ?? '';
  const text = await res.text();
  try {
    return { ...JSON.parse(text), upstream };
  } catch {
    return { error: { http: res.status, text: text.slice(0, 200) }, upstream };
  }
}

function modernClient(who: string, seen: Seen, answers: string[]) {
  const client = new ModernClient(
    { name: 'replicas-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: VERSION } }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler('elicitation/create', async (req: any) => {
    answers.push(req.params.message);
    return { action: 'accept', content: { confirm: true } };
  });
  const transport = new ModernHttp(new URL(lb.url), {
    fetch: recordingFetch(seen),
    requestInit: { headers: { authorization: `Bearer ${tokens[who]}` } },
  });
  return { client, transport };
}
const envelope = (r: any) => JSON.parse(r.content[0].text);
const skipWithoutNginx = !NGINX;
if (skipWithoutNginx) console.warn('replicas test skipped: nginx is not installed (apt-get install -y nginx)');

describe.skipIf(skipWithoutNginx)('three replicas behind nginx round-robin, no sticky sessions', () => {
  let taskJob = '';

  it('the 2026-07-28 seed workflow: confirmation rounds and task polls answered by other replicas than the ones that began them', async () => {
    const seen: Seen = [];
    const answers: string[] = [];
    const { client, transport } = modernClient('alice', seen, answers);
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const call = async (name: string, args: Record<string, unknown>) =>
        envelope(await client.callTool({ name, arguments: args }));
      expect((await call('pre_flight', {})).success).toBe(true);
      expect((await call('list_runtimes', {})).data.runtimes.map((r: any) => r.name)).toContain(
        'torchtune-llama3.2-1b',
      );
      taskJob = 'replica-seed-2026';
      const from = seen.length;
      const submitted = await call('fine_tune', JOB_ARGS(taskJob));
      expect(submitted).toMatchObject({ success: true, data: { job_name: taskJob } });
      expect(answers).toHaveLength(1);
      expect(answers[0]).not.toContain('hf_ReplicaSeedToken42');
      // The preview (input_required with signed state) and the confirmed run came from different replicas.
      const rounds = seen.slice(from).filter((s) => s.method === 'tools/call');
      expect(rounds).toHaveLength(2);
      expect(rounds[0].upstream).not.toBe(rounds[1].upstream);
    } finally {
      await client.close();
    }

    // The wait as a task: created on one replica, polled through nginx, so on the others too.
    const created = await rpc(
      'alice',
      'tools/call',
      { name: 'wait_for_training', arguments: { name: taskJob, timeout_seconds: 300 } },
      { extensions: { [TASKS]: {} } },
    );
    expect(created.result).toMatchObject({ resultType: 'task', status: 'working' });
    const { taskId } = created.result;
    const polls: Array<{ status: string; upstream: string }> = [];
    let done: any;
    for (let i = 0; i < 600 && !done; i++) {
      const got = await rpc('alice', 'tasks/get', { taskId }, { extensions: { [TASKS]: {} } });
      expect(got.error, JSON.stringify(got.error)).toBeUndefined();
      polls.push({ status: got.result.status, upstream: got.upstream });
      if (got.result.status !== 'working') done = got.result;
      else await new Promise((r) => setTimeout(r, 400));
    }
    expect(done, 'the task never completed').toBeDefined();
    expect(done).toMatchObject({ status: 'completed', taskId });
    expect(JSON.parse(done.result.content[0].text).data).toMatchObject({ status: 'Complete', reached: true });
    const others = new Set(polls.map((p) => p.upstream).filter((u) => u !== created.upstream));
    expect(others.size, JSON.stringify(polls.slice(0, 6))).toBeGreaterThanOrEqual(1);
    // Another caller cannot read alice's task on any replica.
    for (let i = 0; i < 3; i++)
      expect((await rpc('bob', 'tasks/get', { taskId }, { extensions: { [TASKS]: {} } })).error).toMatchObject({
        code: -32602,
      });
  }, 300_000);

  it('the 2025-11-25 seed workflow against the --stateless replicas (SDK 1.x client)', async () => {
    const seen: Seen = [];
    const client = new LegacyClient({ name: 'replicas-2025', version: '1.0.0' });
    await client.connect(
      new LegacyHttp(new URL(lb.url), {
        fetch: recordingFetch(seen),
        requestInit: { headers: { authorization: `Bearer ${tokens.alice}` } },
      }),
    );
    try {
      const call = async (name: string, args: Record<string, unknown>) =>
        envelope(await client.callTool({ name, arguments: args }));
      expect((await call('pre_flight', {})).success).toBe(true);
      expect((await call('list_runtimes', {})).data.runtimes.map((r: any) => r.name)).toContain(
        'torchtune-llama3.2-1b',
      );
      expect(await call('fine_tune', JOB_ARGS('replica-seed-2025'))).toMatchObject({
        success: true,
        status: 'preview',
      });
      expect(await call('fine_tune', { ...JOB_ARGS('replica-seed-2025'), confirmed: true })).toMatchObject({
        success: true,
        data: { job_name: 'replica-seed-2025' },
      });
      const waited = await call('wait_for_training', {
        name: 'replica-seed-2025',
        timeout_seconds: 240,
        polling_interval: 0.2,
      });
      expect(waited.data).toMatchObject({ status: 'Complete', reached: true });
      expect(new Set(seen.map((s) => s.upstream)).size).toBe(3);
    } finally {
      await client.close();
    }
  }, 300_000);

  it('ownership holds on every replica: another caller cannot delete the job, its owner can through any', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await rpc('bob', 'tools/call', {
        name: 'delete_training_job',
        arguments: { name: 'replica-seed-2025', confirmed: true },
      });
      const e = JSON.parse(r.result.content[0].text);
      expect(e.success, JSON.stringify(e)).toBe(false);
      expect(e.error_code).toBe('PERMISSION_DENIED');
    }
    const r = await rpc('alice', 'tools/call', {
      name: 'delete_training_job',
      arguments: { name: 'replica-seed-2025', confirmed: true },
    });
    expect(JSON.parse(r.result.content[0].text)).toMatchObject({ success: true });
  }, 60_000);

  it('a subscriptions/listen stream on one replica hears of a change made through another', async () => {
    await new Promise((r) => setTimeout(r, REFILL_MS)); // the buckets the last test drew on refill
    const seen: Seen = [];
    const { client, transport } = modernClient('alice', seen, []);
    await client.connect(transport);
    try {
      const submitted = envelope(
        await client.callTool({ name: 'fine_tune', arguments: { ...JOB_ARGS('replica-listened'), confirmed: true } }),
      );
      expect(submitted.success, JSON.stringify(submitted)).toBe(true);
      const updates: string[] = [];
      client.setNotificationHandler('notifications/resources/updated', (n: any) => {
        updates.push(n.params.uri);
      });
      const sub = await client.listen({
        resourceSubscriptions: ['trainjob://default/replica-listened', 'trainjob://other-ns/forbidden'],
      });
      const listenedOn = seen.filter((s) => s.method === 'subscriptions/listen').at(-1)!.upstream;
      expect(sub.honoredFilter.resourceSubscriptions).toContain('trainjob://default/replica-listened');
      updates.length = 0;
      const t0 = Date.now();
      let via = '';
      // Suspended through nginx: retried until a replica other than the listening one made the change.
      for (let i = 0; i < 3 && (!via || via === listenedOn); i++) {
        const r = await rpc('alice', 'tools/call', {
          name: 'update_training_job',
          arguments: { name: 'replica-listened', action: i % 2 ? 'resume' : 'suspend', confirmed: true },
        });
        via = r.upstream;
      }
      expect(via).not.toBe(listenedOn);
      while (!updates.includes('trainjob://default/replica-listened') && Date.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 20));
      expect(updates).toContain('trainjob://default/replica-listened');
      await sub.close();
    } finally {
      await client.close();
    }
  }, 120_000);

  it('a confirmation accepted on one replica is refused when replayed on another', async () => {
    await new Promise((r) => setTimeout(r, REFILL_MS));
    const job = 'replica-replayed';
    expect(
      JSON.parse(
        (await rpc('alice', 'tools/call', { name: 'fine_tune', arguments: { ...JOB_ARGS(job), confirmed: true } }))
          .result.content[0].text,
      ).success,
    ).toBe(true);
    const caps = { elicitation: { form: {} } };
    const args = { name: job, action: 'suspend' };
    const asked = await rpc('alice', 'tools/call', { name: 'update_training_job', arguments: args }, caps);
    expect(asked.result).toMatchObject({ resultType: 'input_required' });
    const answer = {
      name: 'update_training_job',
      arguments: args,
      requestState: asked.result.requestState,
      inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
    };
    const accepted = await rpc('alice', 'tools/call', answer, caps);
    expect(JSON.parse(accepted.result.content[0].text)).toMatchObject({ success: true, data: { suspend: true } });
    // The same answer again, through nginx: round-robin sends it to each other replica in turn.
    const replays = [await rpc('alice', 'tools/call', answer, caps), await rpc('alice', 'tools/call', answer, caps)];
    expect(new Set([accepted.upstream, ...replays.map((r) => r.upstream)]).size).toBe(REPLICAS);
    for (const r of replays) {
      const e = JSON.parse(r.result.content[0].text);
      expect(e, JSON.stringify(e)).toMatchObject({
        success: false,
        error_code: 'CONFLICT',
        details: { reason: 'confirmation_already_used' },
      });
    }
  }, 60_000);

  it('rate limits hold across the replicas: a burst through nginx gets at most the configured burst in total', async () => {
    await new Promise((r) => setTimeout(r, REFILL_MS)); // full buckets again
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 4 * BURST }, () => rpc('bob', 'tools/call', { name: 'list_runtimes', arguments: {} })),
    );
    const seconds = (Date.now() - t0) / 1000;
    const limited = answers.filter((a) => JSON.parse(a.result.content[0].text).error_code === 'RATE_LIMITED');
    // Each replica keeps burst/n and rate/n, so in all: the burst (at least one a replica), and the
    // rate refilled while the calls ran; the tolerance is one call a replica for rounding up.
    expect(answers.length - limited.length).toBeLessThanOrEqual(
      Math.max(BURST, REPLICAS) + Math.ceil(RATE * seconds) + REPLICAS,
    );
    expect(answers.length - limited.length).toBeGreaterThanOrEqual(Math.min(BURST, REPLICAS));
    expect(limited.length).toBeGreaterThan(0);
    expect(JSON.parse(limited[0].result.content[0].text).error).toContain(`across ${REPLICAS} replicas`);
  }, 60_000);

  it('a task outlives the replica that created it, and a listen on a stopping replica ends gracefully', async () => {
    await new Promise((r) => setTimeout(r, REFILL_MS));
    const job = 'replica-outlived';
    const submitted = await rpc('alice', 'tools/call', {
      name: 'fine_tune',
      arguments: { ...JOB_ARGS(job), confirmed: true },
    });
    expect(JSON.parse(submitted.result.content[0].text).success).toBe(true);
    const seen: Seen = [];
    const { client, transport } = modernClient('alice', seen, []);
    await client.connect(transport);
    const listening = await client.listen({ resourceSubscriptions: [`trainjob://default/${job}`] });
    const listener = replicas.find(
      (r) => r.addr === seen.filter((s) => s.method === 'subscriptions/listen').at(-1)!.upstream,
    )!;
    const created = await rpc(
      'alice',
      'tools/call',
      { name: 'wait_for_training', arguments: { name: job, timeout_seconds: 300 } },
      { extensions: { [TASKS]: {} } },
    );
    expect(created.result).toMatchObject({ resultType: 'task' });
    const maker = replicas.find((r) => r.addr === created.upstream)!;
    // The replica that made the task goes, and the one holding the listen (the same one or another).
    const t0 = Date.now();
    for (const r of new Set([maker, listener])) r.proc.kill('SIGTERM');
    // The listen ended with its result (the client sees a graceful end), well before the 1 s grace.
    expect(await listening.closed).toBe('graceful');
    expect(Date.now() - t0).toBeLessThan(1000);
    await client.close();
    for (const r of new Set([maker, listener]))
      await new Promise<void>((ok) => (r.proc.exitCode !== null ? ok() : r.proc.once('exit', () => ok())));
    let done: any;
    const answered = new Set<string>();
    for (let i = 0; i < 600 && !done; i++) {
      const got = await rpc('alice', 'tasks/get', { taskId: created.result.taskId }, { extensions: { [TASKS]: {} } });
      if (got.error?.http) continue; // a request nginx had sent on a connection to the replica as it went away
      answered.add(got.upstream.split(', ').at(-1)!);
      if (got.result?.status === 'completed') done = got.result;
      else await new Promise((r) => setTimeout(r, 400));
    }
    expect(done).toBeDefined();
    expect(answered.has(maker.addr)).toBe(false);
    expect(answered.size).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(done.result.content[0].text).data).toMatchObject({ status: 'Complete' });
  }, 300_000);
});
