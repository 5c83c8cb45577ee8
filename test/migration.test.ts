// Coming from the upstream Python server: every flag and environment variable it documents is read
// here with the same meaning, or refused at start with one line that names what to use instead.
// Nothing is silently ignored, and an authentication setting that is given but unusable stops the
// server instead of serving it open.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServeConfig } from '../runtime/config.ts';
import { parseServeFlags } from '../runtime/serve-options.ts';
import { ConfigError } from '../runtime/policy.ts';
import { serveHttp } from './helpers/serve-http.ts';

const dir = mkdtempSync(join(tmpdir(), 'kfmcp-migrate-'));
const jwks = join(dir, 'jwks.json');
writeFileSync(jwks, JSON.stringify({ keys: [] }));
const TOKEN = 'upstream-token-0123456789';

type Cfg = Awaited<ReturnType<typeof resolveServeConfig>>;
/** Resolves a `serve` command line and environment as the server would (no config file). */
const resolve = (argv: string[], env: Record<string, string> = {}) => {
  Object.assign(env, { HOME: '/nonexistent-home', KUBEFLOW_MCP_CONFIG: join(dir, 'none.yaml') });
  return resolveServeConfig(parseServeFlags(argv)!, env as NodeJS.ProcessEnv).catch((e) => e as Error);
};
writeFileSync(join(dir, 'none.yaml'), '');

const accepted: Array<[string, string[], Record<string, string>, (c: Cfg, env: Record<string, string>) => void]> = [
  [
    '--auth-token',
    ['--transport', 'http', '--auth-token', TOKEN],
    {},
    (c) => {
      expect(c.http.token).toBe(TOKEN);
      expect(c.http.tokenOnCommandLine).toBe(true);
    },
  ],
  [
    '--otel-endpoint',
    ['--otel-endpoint', 'http://127.0.0.1:4318'],
    {},
    (_c, env) => expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318'),
  ],
  [
    'KUBEFLOW_MCP_AUTH_TOKEN',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_AUTH_TOKEN: TOKEN },
    (c) => expect(c.http.token).toBe(TOKEN),
  ],
  [
    'KUBEFLOW_MCP_JWKS_URI',
    ['--transport', 'http'],
    {
      KUBEFLOW_MCP_JWKS_URI: 'https://idp.example.test/jwks',
      KUBEFLOW_MCP_JWT_ISSUER: 'https://idp.example.test',
      KUBEFLOW_MCP_JWT_AUDIENCE: 'kubeflow-mcp',
    },
    (c) =>
      expect(c.http.jwt).toMatchObject({
        jwksUrl: 'https://idp.example.test/jwks',
        issuer: 'https://idp.example.test',
        audience: 'kubeflow-mcp',
      }),
  ],
  [
    'KUBEFLOW_MCP_JWT_ISSUER and _AUDIENCE',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_JWKS_FILE: jwks, KUBEFLOW_MCP_JWT_ISSUER: 'iss', KUBEFLOW_MCP_JWT_AUDIENCE: 'aud' },
    (c) => expect(c.http.jwt).toMatchObject({ issuer: 'iss', audience: 'aud' }),
  ],
  [
    'KUBEFLOW_MCP_ALLOWED_HOSTS',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_ALLOWED_HOSTS: 'mcp.ns.svc:*, localhost' },
    (c) => expect(c.http.allowedHosts).toEqual(['mcp.ns.svc:*', 'localhost']),
  ],
  [
    'KUBEFLOW_MCP_ALLOWED_ORIGINS',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_ALLOWED_ORIGINS: 'https://app.example.test' },
    (c) => expect(c.http.allowedOrigins).toEqual(['https://app.example.test']),
  ],
  [
    'KUBEFLOW_MCP_DNS_REBINDING_PROTECTION=false',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_DNS_REBINDING_PROTECTION: 'false' },
    (c) => expect(c.http.hostChecks).toBe(false),
  ],
  [
    'KUBEFLOW_MCP_DNS_REBINDING_PROTECTION=true',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_DNS_REBINDING_PROTECTION: 'true' },
    (c) => expect(c.http.hostChecks).toBe(true),
  ],
  [
    'KUBEFLOW_MCP_RATE_LIMIT with _RATE_CAPACITY',
    [],
    { KUBEFLOW_MCP_RATE_LIMIT: '10', KUBEFLOW_MCP_RATE_CAPACITY: '20' },
    (c) => expect(c.persona).toBe('readonly'),
  ],
  [
    'KUBEFLOW_MCP_CB_FAILURE_THRESHOLD and _CB_RECOVERY_TIMEOUT',
    [],
    { KUBEFLOW_MCP_CB_FAILURE_THRESHOLD: '3', KUBEFLOW_MCP_CB_RECOVERY_TIMEOUT: '30' },
    (_c, env) =>
      expect([env.KUBEFLOW_MCP_BREAKER_THRESHOLD, env.KUBEFLOW_MCP_BREAKER_COOLDOWN_MS]).toEqual(['3', '30000']),
  ],
  [
    'KUBEFLOW_MCP_UNSAFE_SCRIPTS=true',
    [],
    { KUBEFLOW_MCP_UNSAFE_SCRIPTS: 'true' },
    (c) => expect(c.persona).toBe('readonly'),
  ],
  [
    'MCP_TRANSPORT',
    [],
    { MCP_TRANSPORT: 'sse' },
    (c) => {
      expect(c.transport).toBe('sse');
      expect(c.http.path).toBe('/sse');
    },
  ],
  [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    [],
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    (_c, env) => expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318'),
  ],
  [
    'FASTMCP_HOST and FASTMCP_PORT',
    ['--transport', 'http'],
    { FASTMCP_HOST: '127.0.0.2', FASTMCP_PORT: '9100' },
    (c) => expect([c.http.host, c.http.port]).toEqual(['127.0.0.2', 9100]),
  ],
];

const refused: Array<[string, string[], Record<string, string>, RegExp]> = [
  [
    'an empty KUBEFLOW_MCP_AUTH_TOKEN',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_AUTH_TOKEN: '' },
    /auth token from KUBEFLOW_MCP_AUTH_TOKEN must be at least 16 characters \(it is empty\)/,
  ],
  [
    'a short --auth-token',
    ['--transport', 'http', '--auth-token', 'short'],
    {},
    /auth token from --auth-token must be at least 16 characters/,
  ],
  [
    'a JWKS URI without issuer',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_JWKS_URI: 'https://idp.example.test/jwks' },
    /needs an issuer and an audience/,
  ],
  [
    'KUBEFLOW_MCP_JWKS_URI and _URL disagreeing',
    ['--transport', 'http'],
    { KUBEFLOW_MCP_JWKS_URI: 'https://a.test/jwks', KUBEFLOW_MCP_JWKS_URL: 'https://b.test/jwks' },
    /KUBEFLOW_MCP_JWKS_URL and KUBEFLOW_MCP_JWKS_URI are both set/,
  ],
  [
    'a bad KUBEFLOW_MCP_CB_FAILURE_THRESHOLD',
    [],
    { KUBEFLOW_MCP_CB_FAILURE_THRESHOLD: 'many' },
    /invalid KUBEFLOW_MCP_CB_FAILURE_THRESHOLD/,
  ],
  [
    'KUBEFLOW_MCP_CB_RECOVERY_TIMEOUT disagreeing with ours',
    [],
    { KUBEFLOW_MCP_CB_RECOVERY_TIMEOUT: '30', KUBEFLOW_MCP_BREAKER_COOLDOWN_MS: '5000' },
    /KUBEFLOW_MCP_CB_RECOVERY_TIMEOUT and KUBEFLOW_MCP_BREAKER_COOLDOWN_MS are both set/,
  ],
  [
    'KUBEFLOW_MCP_UNSAFE_SCRIPTS=false',
    [],
    { KUBEFLOW_MCP_UNSAFE_SCRIPTS: 'false' },
    /KUBEFLOW_MCP_UNSAFE_SCRIPTS is not supported: this server does not block training scripts by pattern/,
  ],
  ['a bad KUBEFLOW_MCP_RATE_LIMIT', [], { KUBEFLOW_MCP_RATE_LIMIT: 'fast' }, /invalid KUBEFLOW_MCP_RATE_LIMIT/],
  ['KUBEFLOW_MCP_RATE_CAPACITY alone', [], { KUBEFLOW_MCP_RATE_CAPACITY: '20' }, /needs KUBEFLOW_MCP_RATE_LIMIT/],
  ['a bad MCP_TRANSPORT', [], { MCP_TRANSPORT: 'grpc' }, /invalid transport "grpc" \(from MCP_TRANSPORT\)/],
  ['a bad --otel-endpoint', ['--otel-endpoint', 'collector:4318'], {}, /invalid OTLP endpoint/],
];

describe("the upstream server's flags and variables", () => {
  for (const [name, argv, env, check] of accepted) {
    it(`reads ${name} with the upstream meaning`, async () => {
      const e = { ...env };
      const c = await resolve(argv, e);
      expect(c, String(c)).not.toBeInstanceOf(Error);
      check(c as Cfg, e);
    });
  }
  for (const [what, argv, env, message] of refused) {
    it(`refuses ${what} at start, naming what to do`, async () => {
      const c = await resolve(argv, env);
      expect(c).toBeInstanceOf(ConfigError);
      expect((c as Error).message).toMatch(message);
      expect((c as Error).message).not.toContain('\n');
    });
  }

  it('serves a migrated JWKS_URI deployment with authentication on, and warns when an endpoint is open', async () => {
    const secured = await serveHttp(['--sandbox', '--log-level', 'WARNING'], {
      KUBEFLOW_MCP_JWKS_URI: 'http://127.0.0.1:9/jwks',
      KUBEFLOW_MCP_JWT_ISSUER: 'https://idp.test',
      KUBEFLOW_MCP_JWT_AUDIENCE: 'kubeflow-mcp',
    });
    const res = await fetch(secured.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}',
    });
    expect(res.status).toBe(401);
    expect(secured.stderr()).not.toMatch(/no authentication/);
    const open = await serveHttp(['--sandbox', '--log-level', 'WARNING', '--log-format', 'json']);
    await new Promise((r) => setTimeout(r, 200));
    const warning = open
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((r) => r.level === 'WARNING' && /no authentication/.test(r.message));
    expect(warning).toBeDefined();
  }, 60_000);
});
