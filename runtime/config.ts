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
import {
  checkEnvironment,
  declOf,
  defaultOf,
  environment,
  envSource,
  envText,
  holdSetting,
  type Env,
  type SettingKey,
} from './settings.ts';
import { SETTINGS, type SettingDecl } from '../generated/settings.ts';

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
  /** Lines to log as WARNING once the logger runs: variables of ours that no setting declares. */
  warnings: string[];
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

/** The values an enum setting may take, as specs/settings.yaml declares them. */
const valuesOf = <T extends string>(key: SettingKey) => declOf(key).values as readonly T[];
const ENUMS = {
  mode: valuesOf<ServeConfig['mode']>('mode'),
  tier: valuesOf<ServeConfig['tier']>('instructionTier'),
  transport: valuesOf<ServeConfig['transport']>('transport'),
  logLevel: valuesOf<ServeConfig['logLevel']>('logLevel'),
  logFormat: valuesOf<ServeConfig['logFormat']>('logFormat'),
  // The sandbox's platform presets (sandbox/platforms.ts).
  sandboxPlatform: valuesOf<NonNullable<ServeConfig['sandboxPlatform']>>('sandboxPlatform'),
};

/** The config-file sections, and the keys of each that some setting declares. */
const SECTIONS = ['server', 'logging', 'trainer', 'auth', 'security', 'observability'];
const fileKeys = (section: string) =>
  (SETTINGS as readonly SettingDecl[])
    .flatMap((s) => s.file ?? [])
    .filter((k) => k.startsWith(`${section}.`))
    .map((k) => k.slice(section.length + 1));

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
function breakerFromUpstream(env: Env) {
  const pairs: Array<[SettingKey, SettingKey, number]> = [
    ['cbFailureThreshold', 'breakerThreshold', 1],
    ['cbRecoveryTimeout', 'breakerCooldownMs', 1000],
  ];
  for (const [theirKey, ourKey, scale] of pairs) {
    const theirs = declOf(theirKey).env![0],
      ours = declOf(ourKey).env![0];
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

export async function resolveServeConfig(flags: Record<string, any>, env: Env = environment()): Promise<ServeConfig> {
  breakerFromUpstream(env);
  const e = (key: SettingKey) => envText(key, env);
  // Upstream blocks scripts that match risky patterns unless this is true; here no script is
  // blocked by pattern (it runs in the cluster under the job's RBAC), so only "true" means the same.
  const unsafeScripts = e('unsafeScripts');
  if (unsafeScripts !== undefined && !['1', 'true', 'yes'].includes(unsafeScripts.toLowerCase())) {
    throw new ConfigError(
      'KUBEFLOW_MCP_UNSAFE_SCRIPTS is not supported: this server does not block training scripts by pattern (scripts run in the cluster, limited by its RBAC and the namespace policy); unset it',
    );
  }
  try {
    RateLimiter.fromEnv(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const explicit = flags.config ?? e('config');
  const configFile = explicit ?? findConfigFile();
  const file = configFile ? await readConfigFile(configFile) : {};
  const where = `config file ${configFile}`;
  onlyKeys(file, SECTIONS, where, '');
  for (const section of SECTIONS) onlyKeys(file[section], fileKeys(section), where, `${section}.`);
  const s = file.server ?? {},
    l = file.logging ?? {};
  // A file that happens to lie in the working directory may neither hand out more tools than the
  // default persona has nor open the server, unless it was named or trusted explicitly.
  const untrusted =
    !explicit && configFile === join(process.cwd(), '.kubeflow-mcp.yaml') && e('trustCwdConfig') !== '1';
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
  if (untrusted && s.persona && !flags.persona && !e('persona')) {
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
    const name = declOf('otelEndpoint').env![0];
    if (!env[name] || flags.otelEndpoint) env[name] = String(otel);
  }
  const clientsRaw =
    first(flags.clients, e('clients'), Array.isArray(s.clients) ? s.clients.join(',') : s.clients) ??
    Object.keys(MODULES)
      .filter((m) => MODULES[m].default)
      .join(',');
  const timeScale = Number(first(flags.timeScale, e('timeScale')) ?? defaultOf('timeScale'));
  if (flags.sandboxState && !flags.sandbox) throw new ConfigError('--sandbox-state needs --sandbox');
  if (!(timeScale > 0 && timeScale <= 100))
    throw new ConfigError(`invalid --time-scale "${flags.timeScale}"; expected a number above 0`);
  const persona = String(first(flags.persona, e('persona'), s.persona) ?? defaultOf('persona'));
  const transport =
    pick(
      'transport',
      ENUMS.transport,
      ['--transport', flags.transport],
      envSource('transport', env) ?? ['', undefined],
      ['config server.transport', s.transport],
    ) ?? defaultOf('transport');
  const http = httpConfig(flags, env, s, transport !== 'stdio', file.auth ?? {}, file.security ?? {});
  if (transport === 'sse') {
    http.legacySse = true;
    if (!first(flags.path, e('path'), s.path)) http.path = '/sse';
  }
  // One value for every reader (the version check, inspect_controller): environment, then file, then default.
  const controllerNamespace = String(
    first(e('controllerNamespace'), file.trainer?.controller_namespace) ?? defaultOf('controllerNamespace'),
  );
  holdSetting('controllerNamespace', controllerNamespace);
  // Every other variable of ours, by its declared type; and the ones no setting declares, for a warning.
  const warnings = checkEnvironment('serve', env);
  return {
    clients: String(clientsRaw)
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    persona,
    mode:
      pick('mode', ENUMS.mode, ['--mode', flags.mode], envSource('mode', env) ?? ['', undefined], [
        'config server.mode',
        s.mode,
      ]) ?? defaultOf('mode'),
    tier:
      pick(
        'instruction tier',
        ENUMS.tier,
        ['--instruction-tier', flags.instructionTier],
        envSource('instructionTier', env) ?? ['', undefined],
        ['config server.instruction_tier', s.instruction_tier],
      ) ?? defaultOf('instructionTier'),
    transport,
    http,
    logLevel:
      pick(
        'log level',
        ENUMS.logLevel,
        ['--log-level', flags.logLevel],
        envSource('logLevel', env) ?? ['', undefined],
        ['config logging.level', l.level],
      ) ?? defaultOf('logLevel'),
    logFormat:
      pick(
        'log format',
        ENUMS.logFormat,
        ['--log-format', flags.logFormat],
        envSource('logFormat', env) ?? ['', undefined],
        ['config logging.format', l.format],
      ) ?? (process.stderr.isTTY ? 'console' : 'json'),
    banner: flags.banner !== false,
    sandbox: !!flags.sandbox,
    timeScale,
    sandboxKubeconfig: flags.sandboxKubeconfig as string | undefined,
    sandboxState: flags.sandboxState as string | undefined,
    sandboxPlatform: pick('sandbox platform', ENUMS.sandboxPlatform, ['--sandbox-platform', flags.sandboxPlatform]),
    kubeconfig: flags.kubeconfig,
    context: first(flags.context, e('context'), s.context) as string | undefined,
    controllerNamespace,
    configFile,
    transportFromFile: !flags.transport && !e('transport') && !!s.transport,
    hub: serviceSettings('hub', {
      url: first(flags.hubUrl, e('hubUrl')),
      tokenFile: first(flags.hubTokenFile, e('hubTokenFile')),
      tokenSecret: first(flags.hubTokenSecret, e('hubTokenSecret')),
      service: first(flags.hubService, e('hubService')),
      namespaces: first(flags.hubNamespaces, e('hubNamespaces')),
      plainToken: [declOf('hubToken').env![0], e('hubToken')],
    }),
    warnings,
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
  env: Env,
  s: Record<string, any>,
  used: boolean,
  a: Record<string, any>,
  sec: Record<string, any>,
): HttpConfig {
  const e = (key: SettingKey) => envText(key, env);
  const host = String(first(flags.host, e('host'), s.host) ?? defaultOf('host'));
  const port = Number(first(flags.port, e('port'), s.port) ?? defaultOf('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`invalid port "${first(flags.port, e('port'), s.port)}"; expected 0 to 65535`);
  const path = String(first(flags.path, e('path'), s.path) ?? defaultOf('path'));
  if (!path.startsWith('/')) throw new ConfigError(`invalid path "${path}"; it must start with /`);
  // A token that is given must be usable: an empty one would otherwise leave the server open.
  const sources: Array<[string, unknown]> = [
    ['--auth-token', flags.authToken],
    envSource('authToken', env) ?? [declOf('authToken').env![0], undefined],
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
  const allowUnauthenticated = !!flags.allowUnauthenticated || e('allowUnauthenticated') === '1';
  const jwt = jwtConfig(flags, env, a);
  if (used && !token && !jwt && !isLoopback(host) && !allowUnauthenticated) {
    throw new ConfigError(
      `refusing to serve on ${host} without authentication: set KUBEFLOW_MCP_AUTH_TOKEN or --auth-token-file, configure JWTs (--jwks-url), bind to 127.0.0.1, or pass --allow-unauthenticated`,
    );
  }
  const resourceUrl = first(flags.resourceUrl, e('resourceUrl'), a.resource_url) as string | undefined;
  if (resourceUrl !== undefined && !/^https?:\/\//.test(resourceUrl))
    throw new ConfigError(`invalid resource URL "${resourceUrl}"; expected an http(s) URL`);
  const maxBodyBytes = Number(e('maxRequestBytes') ?? defaultOf('maxRequestBytes'));
  const rebinding = first(e('dnsRebindingProtection'), sec.enable_dns_rebinding_protection);
  const hostChecks = rebinding === undefined || !FALSE_WORDS.includes(String(rebinding).toLowerCase());
  return {
    host,
    port,
    path,
    stateless: !!(flags.stateless ?? s.stateless),
    token,
    allowUnauthenticated,
    allowedHosts: list(first(flags.allowedHosts, e('allowedHosts'), sec.allowed_hosts, s.allowed_hosts)),
    allowedOrigins: list(first(flags.allowedOrigins, e('allowedOrigins'), sec.allowed_origins, s.allowed_origins)),
    hostChecks,
    maxBodyBytes,
    jwt,
    resourceUrl,
    ...sessionLimits(e),
    tokenOnCommandLine: tokenFrom === '--auth-token',
  };
}

/** Sessions: how many at once and how long one may sit idle before it is closed. */
function sessionLimits(e: (key: SettingKey) => string | undefined) {
  const maxSessions = Number(e('maxSessions') ?? defaultOf('maxSessions'));
  if (!(Number.isInteger(maxSessions) && maxSessions >= 1))
    throw new ConfigError(`invalid KUBEFLOW_MCP_MAX_SESSIONS "${e('maxSessions')}"; expected a whole number above 0`);
  const sessionIdleSeconds = Number(e('sessionIdleSeconds') ?? defaultOf('sessionIdleSeconds'));
  if (!(sessionIdleSeconds > 0))
    throw new ConfigError(
      `invalid KUBEFLOW_MCP_SESSION_IDLE_SECONDS "${e('sessionIdleSeconds')}"; expected seconds above 0`,
    );
  const seconds = (key: SettingKey) => {
    const v = Number(e(key) ?? defaultOf(key));
    if (!(v > 0 && v <= 3600))
      throw new ConfigError(`invalid ${declOf(key).env![0]} "${e(key)}"; expected seconds between 0 and 3600`);
    return v * 1000;
  };
  return {
    maxSessions,
    sessionIdleMs: sessionIdleSeconds * 1000,
    headersTimeoutMs: seconds('httpHeadersTimeoutSeconds'),
    requestTimeoutMs: seconds('httpRequestTimeoutSeconds'),
    idleSocketMs: seconds('httpIdleSeconds'),
  };
}

/** JWT settings, or undefined when no JWKS is configured; a JWKS without issuer and audience is refused. */
function jwtConfig(flags: Record<string, any>, env: Env, a: Record<string, any>): JwtConfig | undefined {
  const e = (key: SettingKey) => envText(key, env);
  const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null && v !== '') as string | undefined;
  const jwksUrl = first(flags.jwksUrl, e('jwksUrl'), a.jwks_url, a.jwks_uri);
  const jwksFile = first(e('jwksFile'), a.jwks_file);
  if (!jwksUrl && !jwksFile) return undefined;
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl))
    throw new ConfigError(`invalid JWKS URL "${jwksUrl}"; expected an http(s) URL`);
  if (jwksFile && !existsSync(jwksFile)) throw new ConfigError(`JWKS file ${jwksFile} does not exist`);
  const issuer = first(flags.jwtIssuer, e('jwtIssuer'), a.issuer);
  const audience = first(flags.jwtAudience, e('jwtAudience'), a.audience);
  // Without both, a token minted for another service by the same issuer would be accepted here.
  if (!issuer || !audience)
    throw new ConfigError(
      'JWT authentication needs an issuer and an audience (--jwt-issuer and --jwt-audience, or KUBEFLOW_MCP_JWT_ISSUER and KUBEFLOW_MCP_JWT_AUDIENCE)',
    );
  const algorithms = list(
    first(e('jwtAlgorithms'), Array.isArray(a.algorithms) ? a.algorithms.join(',') : a.algorithms) ??
      defaultOf('jwtAlgorithms').join(','),
  );
  const bad = algorithms.filter((x) => !/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(x));
  if (bad.length)
    throw new ConfigError(
      `JWT algorithms not accepted: ${bad.join(', ')} (asymmetric signatures only: RS*, PS*, ES*, EdDSA)`,
    );
  const clockSkewSeconds = Number(
    first(e('jwtClockSkewSeconds'), a.clock_skew_seconds) ?? defaultOf('jwtClockSkewSeconds'),
  );
  if (!(clockSkewSeconds >= 0 && clockSkewSeconds <= 300))
    throw new ConfigError('the JWT clock skew must be 0 to 300 seconds');
  const refetchCooldownSeconds = Number(first(e('jwksCooldownSeconds')) ?? defaultOf('jwksCooldownSeconds'));
  if (!(refetchCooldownSeconds >= 0 && refetchCooldownSeconds <= 3600))
    throw new ConfigError('KUBEFLOW_MCP_JWKS_COOLDOWN_SECONDS must be 0 to 3600');
  return {
    jwksUrl,
    jwksFile: jwksUrl ? undefined : jwksFile,
    issuer,
    audience,
    algorithms,
    clockSkewSeconds,
    groupsClaim: first(e('jwtGroupsClaim'), a.groups_claim) ?? defaultOf('jwtGroupsClaim'),
    refetchCooldownSeconds,
  };
}
