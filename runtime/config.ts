// Server settings from CLI flags, environment, config file and defaults (in that order of
// precedence). Invalid values are a ConfigError: one line, exit code 2.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MODULES, PERSONA_TOOLS } from '../generated/session.ts';
import { ConfigError, onlyKeys } from './policy.ts';
import type { JwtConfig } from './auth/jwt.ts';
import { RateLimiter } from './rate-limit.ts';
import { serviceSettings, type ServiceSettings } from './service-settings.ts';

export interface ServeConfig {
  clients: string[];
  persona: string;
  mode: 'full' | 'progressive' | 'semantic';
  tier: 'full' | 'compact' | 'minimal';
  transport: 'stdio' | 'http' | 'sse';
  /** For --transport http. */
  http: HttpConfig;
  logLevel: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  logFormat: 'json' | 'console';
  banner: boolean;
  sandbox: boolean;
  timeScale: number;
  /** Where --sandbox writes the sandbox's kubeconfig (default: a file in the temp dir). */
  sandboxKubeconfig?: string;
  /** --sandbox-state: the file a shared sandbox keeps its state in (joined, or started in the background). */
  sandboxState?: string;
  /** --sandbox-platform: the platform the sandbox is shaped as. */
  sandboxPlatform?: 'openshift' | 'eks' | 'gke' | 'aks';
  kubeconfig?: string;
  /** The kubeconfig context to use (default: its current one). */
  context?: string;
  controllerNamespace?: string;
  configFile?: string;
  /** The transport was chosen by the config file, not by a flag or the environment. */
  transportFromFile?: boolean;
  /** How the model registry (module hub) is reached, when not by looking its Service up (service-settings.ts). */
  hub?: ServiceSettings;
}

export interface HttpConfig {
  host: string;
  port: number;
  path: string;
  stateless: boolean;
  /** The legacy HTTP+SSE transport (protocol 2024-11-05): GET `path` opens the stream, POST `<path>/messages` sends. */
  legacySse?: boolean;
  /** Static bearer token the clients must send (from a file or the environment); none = no auth. */
  token?: string;
  allowUnauthenticated: boolean;
  /** Host and Origin headers accepted (DNS-rebinding protection); empty = the loopback names when bound to loopback, else any. */
  allowedHosts: string[];
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** Bearer JWTs checked against a JWKS (issuer and audience required). */
  jwt?: JwtConfig;
  /** This server's public MCP URL, named in the OAuth protected-resource metadata (RFC 9728); default: an allowed Host, else the bind address. */
  resourceUrl?: string;
  /** Host and Origin checks on (KUBEFLOW_MCP_DNS_REBINDING_PROTECTION=false turns them off). */
  hostChecks?: boolean;
  /** At most this many sessions at once; one idle this long is closed. */
  maxSessions?: number;
  sessionIdleMs?: number;
  /** The static token came as --auth-token (visible to other local users in the process list). */
  tokenOnCommandLine?: boolean;
  /** Socket limits: all headers, the whole request, and silence on a socket without an open stream. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleSocketMs?: number;
}

/** The loopback names and addresses (all of 127.0.0.0/8). */
export const isLoopback = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
};

const ENUMS = {
  mode: ['full', 'progressive', 'semantic'],
  tier: ['full', 'compact', 'minimal'],
  transport: ['stdio', 'http', 'sse'],
  logLevel: ['DEBUG', 'INFO', 'WARNING', 'ERROR'],
  logFormat: ['json', 'console'],
  // The sandbox's platform presets (sandbox/platforms.ts).
  sandboxPlatform: ['openshift', 'eks', 'gke', 'aks'],
} as const;

export function findConfigFile(): string | undefined {
  return [
    join(process.cwd(), '.kubeflow-mcp.yaml'),
    join(homedir(), '.kubeflow-mcp.yaml'),
    join(homedir(), '.kubeflow-mcp.yml'),
    join(homedir(), '.config/kubeflow-mcp/config.yaml'),
  ].find(existsSync);
}

async function readConfigFile(path: string): Promise<any> {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  const yaml: any = await import('yaml');
  const parse: (text: string) => unknown = yaml.parse ?? yaml.default.parse; // ESM or bundled CJS shape
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`config file ${path}: the top level must be a mapping`);
  return doc;
}

function pick<T extends string>(
  name: string,
  allowed: readonly T[],
  ...candidates: Array<[string, unknown]>
): T | undefined {
  for (const [source, v] of candidates) {
    if (v === undefined || v === null || v === '') continue;
    const s = String(v);
    const hit = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
    if (!hit) throw new ConfigError(`invalid ${name} "${s}" (from ${source}); expected one of: ${allowed.join(', ')}`);
    return hit;
  }
  return undefined;
}

/** Keys a config file found by itself in the working directory (a cloned repository, say) may not
 * set, since each would open the server or point it at something else: transport and listener,
 * authentication, the cluster context and the client modules. */
const WIDENING: Record<string, string[] | '*'> = {
  server: ['clients', 'transport', 'host', 'port', 'path', 'stateless', 'allowed_hosts', 'allowed_origins', 'context'],
  auth: '*',
  security: '*',
  observability: '*',
};

/**
 * The upstream server's circuit-breaker variables, read as ours (its recovery timeout is in
 * seconds, ours in milliseconds): set before the Kubernetes client reads them.
 */
function breakerFromUpstream(env: NodeJS.ProcessEnv) {
  const pairs: Array<[string, string, number]> = [
    ['KUBEFLOW_MCP_CB_FAILURE_THRESHOLD', 'KUBEFLOW_MCP_BREAKER_THRESHOLD', 1],
    ['KUBEFLOW_MCP_CB_RECOVERY_TIMEOUT', 'KUBEFLOW_MCP_BREAKER_COOLDOWN_MS', 1000],
  ];
  for (const [theirs, ours, scale] of pairs) {
    if (env[theirs] === undefined) continue;
    const v = Number(env[theirs]);
    if (!(v > 0 && v <= 3600))
      throw new ConfigError(`invalid ${theirs} "${env[theirs]}"; expected a number between 0 and 3600`);
    const translated = String(Math.round(v * scale));
    if (env[ours] !== undefined && env[ours] !== translated)
      throw new ConfigError(`${theirs} and ${ours} are both set, to different values; set only ${ours}`);
    env[ours] = translated;
  }
}

/** An environment variable and its older (upstream) name must not disagree. */
function aliased(env: NodeJS.ProcessEnv, ours: string, theirs: string): string | undefined {
  const a = env[ours],
    b = env[theirs];
  if (a !== undefined && b !== undefined && a !== b)
    throw new ConfigError(`${ours} and ${theirs} are both set, to different values; set only ${ours}`);
  return a ?? b;
}

export async function resolveServeConfig(
  flags: Record<string, any>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeConfig> {
  breakerFromUpstream(env);
  // Upstream blocks scripts that match risky patterns unless this is true; here no script is
  // blocked by pattern (it runs in the cluster under the job's RBAC), so only "true" means the same.
  if (
    env.KUBEFLOW_MCP_UNSAFE_SCRIPTS !== undefined &&
    !['1', 'true', 'yes'].includes(env.KUBEFLOW_MCP_UNSAFE_SCRIPTS.toLowerCase())
  ) {
    throw new ConfigError(
      'KUBEFLOW_MCP_UNSAFE_SCRIPTS is not supported: this server does not block training scripts by pattern (scripts run in the cluster, limited by its RBAC and the namespace policy); unset it',
    );
  }
  try {
    RateLimiter.fromEnv(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const explicit = flags.config ?? env.KUBEFLOW_MCP_CONFIG;
  const configFile = explicit ?? findConfigFile();
  const file = configFile ? await readConfigFile(configFile) : {};
  const where = `config file ${configFile}`;
  onlyKeys(file, ['server', 'logging', 'trainer', 'auth', 'security', 'observability'], where, '');
  onlyKeys(
    file.auth,
    [
      'auth_token',
      'jwks_url',
      'jwks_uri',
      'jwks_file',
      'issuer',
      'audience',
      'algorithms',
      'clock_skew_seconds',
      'groups_claim',
      'resource_url',
    ],
    where,
    'auth.',
  );
  onlyKeys(file.security, ['enable_dns_rebinding_protection', 'allowed_hosts', 'allowed_origins'], where, 'security.');
  onlyKeys(file.observability, ['otel_endpoint'], where, 'observability.');
  onlyKeys(
    file.server,
    [
      'clients',
      'persona',
      'mode',
      'transport',
      'instruction_tier',
      'host',
      'port',
      'path',
      'stateless',
      'allowed_hosts',
      'allowed_origins',
      'context',
    ],
    where,
    'server.',
  );
  onlyKeys(file.logging, ['level', 'format'], where, 'logging.');
  onlyKeys(file.trainer, ['controller_namespace'], where, 'trainer.');
  const s = file.server ?? {},
    l = file.logging ?? {};
  // A file that happens to lie in the working directory may neither hand out more tools than the
  // default persona has nor open the server, unless it was named or trusted explicitly.
  const untrusted =
    !explicit && configFile === join(process.cwd(), '.kubeflow-mcp.yaml') && env.KUBEFLOW_MCP_TRUST_CWD_CONFIG !== '1';
  const trustHow = `pass --config ${configFile} or set KUBEFLOW_MCP_TRUST_CWD_CONFIG=1 to use it`;
  if (untrusted) {
    const widening = Object.entries(WIDENING).flatMap(([section, keys]) =>
      Object.keys(file[section] ?? {})
        .filter((k) => keys === '*' || keys.includes(k))
        .map((k) => `${section}.${k}`),
    );
    if (widening.length)
      throw new ConfigError(
        `${where} (found in the working directory) sets ${widening.join(', ')}, which only a config file you name may set; ${trustHow}`,
      );
  }
  if (untrusted && s.persona && !flags.persona && !env.KUBEFLOW_MCP_PERSONA) {
    const base = new Set(PERSONA_TOOLS.readonly ?? []);
    const asked = PERSONA_TOOLS[String(s.persona)];
    if (!asked || asked.some((t) => !base.has(t))) {
      throw new ConfigError(
        `${where} (found in the working directory) sets server.persona "${s.persona}", which has more tools than the default; ${trustHow}`,
      );
    }
  }
  const otel = first(flags.otelEndpoint, file.observability?.otel_endpoint);
  if (otel !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(String(otel)))
      throw new ConfigError(`invalid OTLP endpoint "${otel}"; expected an http(s) URL`);
    // Read by the OpenTelemetry exporters the standard way.
    if (!env.OTEL_EXPORTER_OTLP_ENDPOINT || flags.otelEndpoint) env.OTEL_EXPORTER_OTLP_ENDPOINT = String(otel);
  }
  const clientsRaw =
    first(flags.clients, env.KUBEFLOW_MCP_CLIENTS, Array.isArray(s.clients) ? s.clients.join(',') : s.clients) ??
    Object.keys(MODULES)
      .filter((m) => MODULES[m].default)
      .join(',');
  const timeScale = Number(first(flags.timeScale, env.KUBEFLOW_MCP_SANDBOX_TIME_SCALE) ?? 0.25);
  if (flags.sandboxState && !flags.sandbox) throw new ConfigError('--sandbox-state needs --sandbox');
  if (!(timeScale > 0 && timeScale <= 100))
    throw new ConfigError(`invalid --time-scale "${flags.timeScale}"; expected a number above 0`);
  const persona = String(first(flags.persona, env.KUBEFLOW_MCP_PERSONA, s.persona) ?? 'readonly');
  const transport =
    pick(
      'transport',
      ENUMS.transport,
      ['--transport', flags.transport],
      ['MCP_TRANSPORT', env.MCP_TRANSPORT],
      ['config server.transport', s.transport],
    ) ?? 'stdio';
  const http = httpConfig(flags, env, s, transport !== 'stdio', file.auth ?? {}, file.security ?? {});
  if (transport === 'sse') {
    http.legacySse = true;
    if (!first(flags.path, env.MCP_PATH, s.path)) http.path = '/sse';
  }
  return {
    clients: String(clientsRaw)
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    persona,
    mode:
      pick(
        'mode',
        ENUMS.mode,
        ['--mode', flags.mode],
        ['KUBEFLOW_MCP_MODE', env.KUBEFLOW_MCP_MODE],
        ['config server.mode', s.mode],
      ) ?? 'full',
    tier:
      pick(
        'instruction tier',
        ENUMS.tier,
        ['--instruction-tier', flags.instructionTier],
        ['KUBEFLOW_MCP_INSTRUCTION_TIER', env.KUBEFLOW_MCP_INSTRUCTION_TIER],
        ['config server.instruction_tier', s.instruction_tier],
      ) ?? 'full',
    transport,
    http,
    logLevel:
      pick(
        'log level',
        ENUMS.logLevel,
        ['--log-level', flags.logLevel],
        ['LOG_LEVEL', env.LOG_LEVEL],
        ['config logging.level', l.level],
      ) ?? 'INFO',
    logFormat:
      pick(
        'log format',
        ENUMS.logFormat,
        ['--log-format', flags.logFormat],
        ['LOG_FORMAT', env.LOG_FORMAT],
        ['config logging.format', l.format],
      ) ?? (process.stderr.isTTY ? 'console' : 'json'),
    banner: flags.banner !== false,
    sandbox: !!flags.sandbox,
    timeScale,
    sandboxKubeconfig: flags.sandboxKubeconfig as string | undefined,
    sandboxState: flags.sandboxState as string | undefined,
    sandboxPlatform: pick('sandbox platform', ENUMS.sandboxPlatform, ['--sandbox-platform', flags.sandboxPlatform]),
    kubeconfig: flags.kubeconfig,
    context: first(flags.context, env.KUBEFLOW_MCP_CONTEXT, s.context) as string | undefined,
    controllerNamespace: first(env.KUBEFLOW_MCP_CONTROLLER_NAMESPACE, file.trainer?.controller_namespace) as
      | string
      | undefined,
    configFile,
    transportFromFile: !flags.transport && !env.MCP_TRANSPORT && !!s.transport,
    hub: serviceSettings('hub', {
      url: first(flags.hubUrl, env.KUBEFLOW_MCP_HUB_URL),
      tokenFile: first(flags.hubTokenFile, env.KUBEFLOW_MCP_HUB_TOKEN_FILE),
      tokenSecret: first(flags.hubTokenSecret, env.KUBEFLOW_MCP_HUB_TOKEN_SECRET),
      service: first(flags.hubService, env.KUBEFLOW_MCP_HUB_SERVICE),
      namespaces: first(flags.hubNamespaces, env.KUBEFLOW_MCP_HUB_NAMESPACES),
      plainToken: ['KUBEFLOW_MCP_HUB_TOKEN', env.KUBEFLOW_MCP_HUB_TOKEN],
    }),
  };
}

const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null && v !== '');

const list = (v: unknown) =>
  (Array.isArray(v) ? v.map(String) : v === undefined || v === null || v === '' ? [] : String(v).split(','))
    .map((x) => x.trim())
    .filter(Boolean);

const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** The HTTP listener's settings; a non-loopback bind without a token is refused unless allowed on purpose. */
function httpConfig(
  flags: Record<string, any>,
  env: NodeJS.ProcessEnv,
  s: Record<string, any>,
  used: boolean,
  a: Record<string, any>,
  sec: Record<string, any>,
): HttpConfig {
  const host = String(first(flags.host, env.MCP_HOST, env.FASTMCP_HOST, s.host) ?? '127.0.0.1');
  const port = Number(first(flags.port, env.MCP_PORT, env.FASTMCP_PORT, s.port) ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(
      `invalid port "${first(flags.port, env.MCP_PORT, env.FASTMCP_PORT, s.port)}"; expected 0 to 65535`,
    );
  const path = String(first(flags.path, env.MCP_PATH, s.path) ?? '/mcp');
  if (!path.startsWith('/')) throw new ConfigError(`invalid path "${path}"; it must start with /`);
  // A token that is given must be usable: an empty one would otherwise leave the server open.
  const sources: Array<[string, unknown]> = [
    ['--auth-token', flags.authToken],
    ['KUBEFLOW_MCP_AUTH_TOKEN', env.KUBEFLOW_MCP_AUTH_TOKEN],
    ['config auth.auth_token', a.auth_token],
  ];
  let [tokenFrom, raw] = sources.find(([, v]) => v !== undefined) ?? ['', undefined];
  if (flags.authTokenFile) {
    if (!existsSync(flags.authTokenFile))
      throw new ConfigError(`auth token file ${flags.authTokenFile} does not exist`);
    [tokenFrom, raw] = [`auth token file ${flags.authTokenFile}`, readFileSync(flags.authTokenFile, 'utf8')];
  }
  const token = raw === undefined ? undefined : String(raw).trim();
  if (token !== undefined && token.length < 16)
    throw new ConfigError(
      `the auth token from ${tokenFrom} must be at least 16 characters${token ? '' : ' (it is empty)'}`,
    );
  const allowUnauthenticated = !!flags.allowUnauthenticated || env.KUBEFLOW_MCP_ALLOW_UNAUTHENTICATED === '1';
  const jwt = jwtConfig(flags, env, a);
  if (used && !token && !jwt && !isLoopback(host) && !allowUnauthenticated) {
    throw new ConfigError(
      `refusing to serve on ${host} without authentication: set KUBEFLOW_MCP_AUTH_TOKEN or --auth-token-file, configure JWTs (--jwks-url), bind to 127.0.0.1, or pass --allow-unauthenticated`,
    );
  }
  const resourceUrl = first(flags.resourceUrl, env.KUBEFLOW_MCP_RESOURCE_URL, a.resource_url) as string | undefined;
  if (resourceUrl !== undefined && !/^https?:\/\//.test(resourceUrl))
    throw new ConfigError(`invalid resource URL "${resourceUrl}"; expected an http(s) URL`);
  const maxBodyBytes = Number(env.KUBEFLOW_MCP_MAX_REQUEST_BYTES ?? 8 * 1024 * 1024);
  const rebinding = first(env.KUBEFLOW_MCP_DNS_REBINDING_PROTECTION, sec.enable_dns_rebinding_protection);
  const hostChecks = rebinding === undefined || !FALSE_WORDS.includes(String(rebinding).toLowerCase());
  return {
    host,
    port,
    path,
    stateless: !!(flags.stateless ?? s.stateless),
    token,
    allowUnauthenticated,
    allowedHosts: list(
      first(
        flags.allowedHosts,
        aliased(env, 'MCP_ALLOWED_HOSTS', 'KUBEFLOW_MCP_ALLOWED_HOSTS'),
        sec.allowed_hosts,
        s.allowed_hosts,
      ),
    ),
    allowedOrigins: list(
      first(
        flags.allowedOrigins,
        aliased(env, 'MCP_ALLOWED_ORIGINS', 'KUBEFLOW_MCP_ALLOWED_ORIGINS'),
        sec.allowed_origins,
        s.allowed_origins,
      ),
    ),
    hostChecks,
    maxBodyBytes,
    jwt,
    resourceUrl,
    ...sessionLimits(env),
    tokenOnCommandLine: tokenFrom === '--auth-token',
  };
}

/** Sessions: how many at once and how long one may sit idle before it is closed. */
function sessionLimits(env: NodeJS.ProcessEnv) {
  const maxSessions = Number(env.KUBEFLOW_MCP_MAX_SESSIONS ?? 1000);
  if (!(Number.isInteger(maxSessions) && maxSessions >= 1))
    throw new ConfigError(
      `invalid KUBEFLOW_MCP_MAX_SESSIONS "${env.KUBEFLOW_MCP_MAX_SESSIONS}"; expected a whole number above 0`,
    );
  const sessionIdleSeconds = Number(env.KUBEFLOW_MCP_SESSION_IDLE_SECONDS ?? 1800);
  if (!(sessionIdleSeconds > 0))
    throw new ConfigError(
      `invalid KUBEFLOW_MCP_SESSION_IDLE_SECONDS "${env.KUBEFLOW_MCP_SESSION_IDLE_SECONDS}"; expected seconds above 0`,
    );
  const seconds = (name: string, fallback: number) => {
    const v = Number(env[name] ?? fallback);
    if (!(v > 0 && v <= 3600))
      throw new ConfigError(`invalid ${name} "${env[name]}"; expected seconds between 0 and 3600`);
    return v * 1000;
  };
  return {
    maxSessions,
    sessionIdleMs: sessionIdleSeconds * 1000,
    headersTimeoutMs: seconds('KUBEFLOW_MCP_HTTP_HEADERS_TIMEOUT_SECONDS', 10),
    requestTimeoutMs: seconds('KUBEFLOW_MCP_HTTP_REQUEST_TIMEOUT_SECONDS', 30),
    idleSocketMs: seconds('KUBEFLOW_MCP_HTTP_IDLE_SECONDS', 120),
  };
}

/** JWT settings, or undefined when no JWKS is configured; a JWKS without issuer and audience is refused. */
function jwtConfig(flags: Record<string, any>, env: NodeJS.ProcessEnv, a: Record<string, any>): JwtConfig | undefined {
  const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null && v !== '') as string | undefined;
  const jwksUrl = first(
    flags.jwksUrl,
    aliased(env, 'KUBEFLOW_MCP_JWKS_URL', 'KUBEFLOW_MCP_JWKS_URI'),
    a.jwks_url,
    a.jwks_uri,
  );
  const jwksFile = first(env.KUBEFLOW_MCP_JWKS_FILE, a.jwks_file);
  if (!jwksUrl && !jwksFile) return undefined;
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl))
    throw new ConfigError(`invalid JWKS URL "${jwksUrl}"; expected an http(s) URL`);
  if (jwksFile && !existsSync(jwksFile)) throw new ConfigError(`JWKS file ${jwksFile} does not exist`);
  const issuer = first(flags.jwtIssuer, env.KUBEFLOW_MCP_JWT_ISSUER, a.issuer);
  const audience = first(flags.jwtAudience, env.KUBEFLOW_MCP_JWT_AUDIENCE, a.audience);
  // Without both, a token minted for another service by the same issuer would be accepted here.
  if (!issuer || !audience)
    throw new ConfigError(
      'JWT authentication needs an issuer and an audience (--jwt-issuer and --jwt-audience, or KUBEFLOW_MCP_JWT_ISSUER and KUBEFLOW_MCP_JWT_AUDIENCE)',
    );
  const algorithms = list(
    first(env.KUBEFLOW_MCP_JWT_ALGORITHMS, Array.isArray(a.algorithms) ? a.algorithms.join(',') : a.algorithms) ??
      'RS256,ES256,PS256,EdDSA',
  );
  const bad = algorithms.filter((x) => !/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(x));
  if (bad.length)
    throw new ConfigError(
      `JWT algorithms not accepted: ${bad.join(', ')} (asymmetric signatures only: RS*, PS*, ES*, EdDSA)`,
    );
  const clockSkewSeconds = Number(first(env.KUBEFLOW_MCP_JWT_CLOCK_SKEW_SECONDS, a.clock_skew_seconds) ?? 30);
  if (!(clockSkewSeconds >= 0 && clockSkewSeconds <= 300))
    throw new ConfigError('the JWT clock skew must be 0 to 300 seconds');
  const refetchCooldownSeconds = Number(first(env.KUBEFLOW_MCP_JWKS_COOLDOWN_SECONDS) ?? 30);
  if (!(refetchCooldownSeconds >= 0 && refetchCooldownSeconds <= 3600))
    throw new ConfigError('KUBEFLOW_MCP_JWKS_COOLDOWN_SECONDS must be 0 to 3600');
  return {
    jwksUrl,
    jwksFile: jwksUrl ? undefined : jwksFile,
    issuer,
    audience,
    algorithms,
    clockSkewSeconds,
    groupsClaim: first(env.KUBEFLOW_MCP_JWT_GROUPS_CLAIM, a.groups_claim) ?? 'groups',
    refetchCooldownSeconds,
  };
}
