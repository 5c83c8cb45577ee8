// Serving a team over HTTP, through real MCP clients: JWTs checked against a JWKS that rotates,
// every kind of bad token refused before anything reaches the cluster, the policy's identity rules
// giving each caller its persona and namespaces, sessions bound to their caller, per-caller rate
// limits, ownership that a kubectl relabel cannot forge, and impersonation under the sandbox's RBAC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { serveHttp } from './helpers/serve-http.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

const ISSUER = 'https://login.example.test';
const AUDIENCE = 'kubeflow-mcp';
let sb: Sandbox;
let jwksServer: http.Server;
let jwksUrl = '';
let published: JWK[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-identity-'));
type Key = Awaited<ReturnType<typeof generateKeyPair>> & { kid: string };
let key1: Key, key2: Key, stranger: Key;

async function newKey(kid: string): Promise<Key> {
  return { ...(await generateKeyPair('RS256', { extractable: true })), kid };
}
const jwk = async (k: Key) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: 'RS256', use: 'sig' });

/** A token for `sub`, valid unless a field is overridden. */
async function token(
  sub: string,
  o: { key?: Key; groups?: string[]; iss?: string; aud?: string; exp?: number; scope?: string } = {},
) {
  const k = o.key ?? key1;
  return new SignJWT({ groups: o.groups ?? [], ...(o.scope ? { scope: o.scope } : {}) })
    .setProtectedHeader({ alg: 'RS256', kid: k.kid })
    .setSubject(sub)
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(k.privateKey);
}
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

const serve = async (args: string[], env: Record<string, string>) => (await serveHttp(args, env)).url;

async function connect(url: string, bearer: string) {
  const c = new Client({ name: 'identity-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${bearer}` } },
  });
  await c.connect(transport);
  return { c, transport };
}
const call = async (c: Client, name: string, args: Record<string, unknown> = {}) =>
  JSON.parse(((await c.callTool({ name, arguments: args })) as any).content[0].text);
const initialize = (url: string, auth?: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(auth ? { authorization: auth } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });

const policy = (impersonate: boolean) => `
identity:
  impersonate: ${impersonate}
  callers:
    - match: {subjects: [alice, carol]}
      persona: ml-engineer
      namespaces: [team-a]
    - match: {subjects: [bob]}
      persona: data-scientist
      namespaces: [team-b]
    - match: {subjects: [mallory, gina]}
      persona: data-scientist
      namespaces: [team-a]
    - match: {groups: [viewers]}
      persona: readonly
`;

let url = '';
const kubeconfig = join(dir, 'admin.kubeconfig');

beforeAll(async () => {
  [key1, key2, stranger] = await Promise.all([newKey('k1'), newKey('k2'), newKey('stranger')]);
  published = [await jwk(key1)];
  jwksServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  sb = await startSandbox({ timeScale: 0.02 });
  writeFileSync(kubeconfig, sb.kubeconfig);
  for (const ns of ['team-a', 'team-b'])
    await fetch(`${sb.url}/api/v1/namespaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
    });
  writeFileSync(join(dir, 'policy.yaml'), policy(false));
  url = await serve(
    [
      '--log-level',
      'INFO',
      '--kubeconfig',
      kubeconfig,
      '--jwks-url',
      jwksUrl,
      '--jwt-issuer',
      ISSUER,
      '--jwt-audience',
      AUDIENCE,
    ],
    {
      KUBEFLOW_MCP_POLICY: join(dir, 'policy.yaml'),
      KUBEFLOW_MCP_JWKS_COOLDOWN_SECONDS: '0',
      KUBEFLOW_MCP_RATE_LIMIT: '5',
      KUBEFLOW_MCP_RATE_BURST: '5',
    },
  );
}, 60_000);
afterAll(async () => {
  jwksServer?.close();
  await sb?.stop();
});

describe('JWT authentication', () => {
  it('refuses every bad token with 401 before anything reaches the cluster', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad: Array<[string, string | undefined]> = [
      ['no token', undefined],
      ['a wrong opaque token', 'Bearer not-a-jwt-at-all-0123456789'],
      ['an expired token', `Bearer ${await token('alice', { exp: now - 3600 })}`],
      ['a token for another audience', `Bearer ${await token('alice', { aud: 'some-other-api' })}`],
      ['a token from another issuer', `Bearer ${await token('alice', { iss: 'https://evil.example.test' })}`],
      ['a token signed by a key the issuer does not publish', `Bearer ${await token('alice', { key: stranger })}`],
      [
        'an unsigned token (alg none)',
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.`,
      ],
      ["a token claiming the static token's reserved subject", `Bearer ${await token('static-token')}`],
      ['a token whose signature was altered', `Bearer ${(await token('alice')).slice(0, -4)}AAAA`],
    ];
    const before = sb.requests();
    for (const [what, auth] of bad) {
      const res = await initialize(url, auth);
      expect(res.status, what).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge, what).toMatch(
        /^Bearer realm="kubeflow-mcp", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
      if (auth) expect(challenge, what).toContain('error="invalid_token"');
      expect(JSON.stringify(await res.json()), what).not.toContain('eyJ'); // no token echoed back
    }
    expect(sb.requests()).toBe(before);
  });

  it('publishes OAuth protected-resource metadata (RFC 9728)', async () => {
    const res = await fetch(url.replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: url,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      resource_name: 'kubeflow-mcp',
    });
  });

  it('accepts a good token, and a key the issuer rotates in', async () => {
    const { c } = await connect(url, await token('alice'));
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('fine_tune');
    await c.close();
    published = [await jwk(key1), await jwk(key2)];
    const rotated = await connect(url, await token('alice', { key: key2 }));
    expect((await rotated.c.listTools()).tools.length).toBeGreaterThan(5);
    await rotated.c.close();
  });
});

describe('callers by their claims', () => {
  it('gives each caller the persona and namespaces its claims map to', async () => {
    const alice = await connect(url, await token('alice'));
    const viewer = await connect(url, await token('vic', { groups: ['viewers'] }));
    try {
      const aliceTools = (await alice.c.listTools()).tools.map((t) => t.name);
      const viewerTools = (await viewer.c.listTools()).tools.map((t) => t.name);
      expect(aliceTools).toContain('delete_training_job');
      expect(viewerTools).not.toContain('delete_training_job');
      expect(viewerTools).toContain('list_training_jobs');
      expect((await call(alice.c, 'list_training_jobs', { namespace: 'team-a' })).success).toBe(true);
      expect(await call(alice.c, 'list_training_jobs', { namespace: 'team-b' })).toMatchObject({
        success: false,
        error_code: 'PERMISSION_DENIED',
      });
      // The audit log names the caller, and each caller reads only its own records.
      await call(viewer.c, 'list_training_jobs', { namespace: 'team-a' });
      const aliceLogs = (await call(alice.c, 'get_server_logs', { limit: 100 })).data.logs;
      expect(aliceLogs.some((l: any) => l.tool === 'list_training_jobs' && l.caller === 'alice')).toBe(true);
      expect(aliceLogs.every((l: any) => l.caller === 'alice')).toBe(true);
      // A tool the persona lacks cannot be called by naming it.
      expect(await call(viewer.c, 'delete_training_job', { name: 'x', namespace: 'team-a' })).toMatchObject({
        success: false,
        error_code: 'PERMISSION_DENIED',
      });
    } finally {
      await alice.c.close();
      await viewer.c.close();
    }
    // A caller no rule names gets nothing.
    const res = await initialize(url, `Bearer ${await token('nobody')}`);
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).toContain('matches no rule');
  });

  it('keeps a session to the caller who opened it', async () => {
    const alice = await connect(url, await token('alice'));
    try {
      const hijack = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${await token('bob')}`,
          'mcp-session-id': alice.transport.sessionId!,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
      });
      expect(hijack.status).toBe(403);
    } finally {
      await alice.c.close();
    }
  });

  it('limits a flooding caller without slowing another', async () => {
    const flood = await connect(url, await token('mallory'));
    const calm = await connect(url, await token('bob'));
    try {
      const results = await Promise.all(
        Array.from({ length: 15 }, () => call(flood.c, 'estimate_resources', { model: 'gpt2' })),
      );
      expect(results.filter((r) => r.error_code === 'RATE_LIMITED').length).toBeGreaterThan(5);
      // The other caller's bucket is untouched: its burst goes through at once, none limited.
      const calmResults = await Promise.all(
        Array.from({ length: 5 }, () => call(calm.c, 'estimate_resources', { model: 'gpt2' })),
      );
      expect(calmResults.map((r) => r.error_code ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    } finally {
      await flood.c.close();
      await calm.c.close();
    }
  });
});

describe('ownership across callers', () => {
  it.skipIf(!hasKubectl)(
    'lets nobody else delete or suspend a job, even after relabelling it with kubectl',
    async () => {
      const alice = await connect(url, await token('alice'));
      const carol = await connect(url, await token('carol'));
      const { kubectl } = kubectlWith(kubeconfig);
      try {
        const job = { script: 'print(1)', runtime: 'torch-distributed', namespace: 'team-a', gpu_per_node: 0 };
        const a = await call(alice.c, 'run_custom_training', { ...job, name: 'alice-job', confirmed: true });
        expect(a.success, JSON.stringify(a)).toBe(true);
        const c = await call(carol.c, 'run_custom_training', { ...job, name: 'carol-job', confirmed: true });
        expect(c.success, JSON.stringify(c)).toBe(true);
        const denied = { success: false, error_code: 'PERMISSION_DENIED' };
        expect(
          await call(carol.c, 'delete_training_job', { name: 'alice-job', namespace: 'team-a', confirmed: true }),
        ).toMatchObject(denied);
        expect(
          await call(carol.c, 'update_training_job', {
            name: 'alice-job',
            namespace: 'team-a',
            action: 'suspend',
            confirmed: true,
          }),
        ).toMatchObject(denied);
        const suspended = await call(alice.c, 'update_training_job', {
          name: 'alice-job',
          namespace: 'team-a',
          action: 'suspend',
          confirmed: true,
        });
        expect(suspended.success, JSON.stringify(suspended)).toBe(true);
        // Relabel and re-annotate alice's job with everything carol's own job carries.
        const carolJob = JSON.parse(await kubectl('get', 'trainjob', 'carol-job', '-n', 'team-a', '-o', 'json'));
        const ann = carolJob.metadata.annotations;
        await kubectl('label', 'trainjob', 'alice-job', '-n', 'team-a', '--overwrite', 'kubeflow-mcp/managed-by=mcp');
        await kubectl(
          'annotate',
          'trainjob',
          'alice-job',
          '-n',
          'team-a',
          '--overwrite',
          `kubeflow-mcp/owner=${ann['kubeflow-mcp/owner']}`,
          `kubeflow-mcp/owner-proof=${ann['kubeflow-mcp/owner-proof']}`,
          `kubeflow-mcp/created-by=${ann['kubeflow-mcp/created-by']}`,
        );
        expect(
          await call(carol.c, 'delete_training_job', { name: 'alice-job', namespace: 'team-a', confirmed: true }),
        ).toMatchObject(denied);
        expect(
          await call(carol.c, 'update_training_job', {
            name: 'alice-job',
            namespace: 'team-a',
            action: 'resume',
            confirmed: true,
          }),
        ).toMatchObject(denied);
        expect(
          JSON.parse(await kubectl('get', 'trainjob', 'alice-job', '-n', 'team-a', '-o', 'json')).spec.suspend,
        ).toBe(true);
        // Carol's own job is hers to delete.
        expect(
          (await call(carol.c, 'delete_training_job', { name: 'carol-job', namespace: 'team-a', confirmed: true }))
            .success,
        ).toBe(true);
      } finally {
        await alice.c.close();
        await carol.c.close();
      }
    },
  );
});

describe('impersonation', () => {
  it('lets the cluster RBAC decide: a caller it forbids gets 403 from Kubernetes', async () => {
    // alice may work with TrainJobs in team-a; mallory has no binding at all.
    const admin = (path: string, body: object) =>
      fetch(`${sb.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await admin('/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'trainjobs' },
      rules: [{ apiGroups: ['trainer.kubeflow.org'], resources: ['trainjobs'], verbs: ['get', 'list', 'watch'] }],
    });
    await admin('/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'alice-trainjobs' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trainjobs' },
      subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    // gina gets the same through the second of her two groups.
    await admin('/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'ml-team-trainjobs' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trainjobs' },
      subjects: [{ kind: 'Group', name: 'ml-team', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    writeFileSync(join(dir, 'impersonate.yaml'), policy(true));
    const iurl = await serve(
      ['--kubeconfig', kubeconfig, '--jwks-url', jwksUrl, '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE],
      { KUBEFLOW_MCP_POLICY: join(dir, 'impersonate.yaml'), KUBEFLOW_MCP_JWKS_COOLDOWN_SECONDS: '0' },
    );
    const alice = await connect(iurl, await token('alice'));
    const mallory = await connect(iurl, await token('mallory', { groups: ['interns'] }));
    const gina = await connect(iurl, await token('gina', { groups: ['interns', 'ml-team'] }));
    try {
      const viaGroup = await call(gina.c, 'list_training_jobs', { namespace: 'team-a' });
      expect(viaGroup.success, JSON.stringify(viaGroup)).toBe(true);
      const allowed = await call(alice.c, 'list_training_jobs', { namespace: 'team-a' });
      expect(allowed.success, JSON.stringify(allowed)).toBe(true);
      const refused = await call(mallory.c, 'list_training_jobs', { namespace: 'team-a' });
      expect(refused).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
      expect(refused.details.status).toBe(403);
      expect(refused.error).toContain('User "mallory" cannot list resource "trainjobs"');
    } finally {
      await alice.c.close();
      await mallory.c.close();
      await gina.c.close();
    }
  });
});
