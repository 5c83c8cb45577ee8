// The options of `kubeflow-mcp serve`, declared once: commander builds the help and the error
// messages from them, and the start-up path parses a plain command line with node's own parseArgs
// (no commander to load before the first answer).
import { parseArgs } from 'node:util';

interface ServeOption {
  flags: string;
  description: string;
}

export const SERVE_OPTIONS: ServeOption[] = [
  { flags: '-c, --clients <list>', description: 'client modules, comma-separated (trainer, optimizer, hub)' },
  {
    flags: '-p, --persona <name>',
    description: 'readonly | data-scientist | ml-engineer | platform-admin | a policy-file persona',
  },
  {
    flags: '-m, --mode <mode>',
    description: 'tool mode: full (every tool), progressive (list/describe/execute) or semantic (find/execute)',
  },
  { flags: '--instruction-tier <tier>', description: 'full | compact | minimal' },
  {
    flags: '-t, --transport <transport>',
    description: 'stdio (default), http (streamable HTTP) or sse (the legacy HTTP+SSE transport, at /sse)',
  },
  { flags: '--host <host>', description: 'http: address to bind (default 127.0.0.1)' },
  { flags: '--port <n>', description: 'http: port (default 8000; 0 picks a free one)' },
  { flags: '--path <path>', description: 'http: the MCP endpoint (default /mcp)' },
  {
    flags: '--stateless',
    description: 'http: no sessions (every request stands alone; for replicas behind a Service)',
  },
  {
    flags: '--auth-token <token>',
    description:
      'http: a static bearer token clients must send (visible in the process list: prefer --auth-token-file)',
  },
  {
    flags: '--auth-token-file <path>',
    description: 'http: a static bearer token clients must send (or KUBEFLOW_MCP_AUTH_TOKEN)',
  },
  {
    flags: '--jwks-url <url>',
    description: 'http: accept bearer JWTs signed by a key of this JWKS (or KUBEFLOW_MCP_JWKS_URL / _JWKS_FILE)',
  },
  { flags: '--jwt-issuer <iss>', description: 'http: the issuer JWTs must name (required with a JWKS)' },
  { flags: '--jwt-audience <aud>', description: 'http: the audience JWTs must name (required with a JWKS)' },
  {
    flags: '--resource-url <url>',
    description: "http: this server's public MCP URL, for the OAuth protected-resource metadata",
  },
  { flags: '--allow-unauthenticated', description: 'http: allow a non-loopback bind without a token' },
  {
    flags: '--allowed-hosts <list>',
    description: 'http: Host headers accepted (DNS-rebinding protection), comma-separated',
  },
  { flags: '--allowed-origins <list>', description: 'http: Origin headers accepted, comma-separated' },
  {
    flags: '--otel-endpoint <url>',
    description: 'export traces and metrics over OTLP/HTTP to this endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT)',
  },
  { flags: '-l, --log-level <level>', description: 'DEBUG | INFO | WARNING | ERROR' },
  { flags: '--log-format <format>', description: 'json | console' },
  { flags: '--no-banner', description: 'do not print the start-up line on stderr' },
  { flags: '--sandbox', description: 'start the built-in sandbox cluster in-process and use it' },
  {
    flags: '--time-scale <factor>',
    description: 'sandbox: multiply simulated durations by this factor (default 0.25)',
  },
  {
    flags: '--sandbox-state <file>',
    description:
      "sandbox: keep the cluster's state in this file and share it: join the sandbox serving it, else start one in the background (it stops after 10 idle minutes, keeping the state)",
  },
  {
    flags: '--sandbox-platform <name>',
    description:
      'sandbox: shape it as openshift | eks | gke | aks (their nodes, provider IDs, GPU labels, API groups and version)',
  },
  {
    flags: '--sandbox-kubeconfig <path>',
    description:
      'sandbox: write its kubeconfig here, for kubectl (default: one in the temp dir; the path is printed on stderr)',
  },
  {
    flags: '--context <name>',
    description: 'kubeconfig context to use (default: its current context; others only as policy.contexts allows)',
  },
  { flags: '--kubeconfig <path>', description: 'kubeconfig file (default: KUBECONFIG or ~/.kube/config)' },
  {
    flags: '--hub-url <url>',
    description:
      "hub: the model registry's URL outside the cluster (default: its Service, found by labels, through the API server's proxy)",
  },
  {
    flags: '--hub-token-file <path>',
    description: 'hub: a file holding the bearer token for --hub-url (read at each request)',
  },
  {
    flags: '--hub-token-secret <ref>',
    description:
      "hub: a Secret namespace/name[:key] holding the bearer token for --hub-url, read with the caller's credentials",
  },
  {
    flags: '--hub-service <ref>',
    description: "hub: the registry's Service as namespace/name:port, instead of finding it by labels",
  },
  {
    flags: '--hub-namespaces <list>',
    description: "hub: namespaces to find the registry's Service in (default: kubeflow, then the caller's)",
  },
  {
    flags: '--config <path>',
    description:
      'config file (default: ./.kubeflow-mcp.yaml, ~/.kubeflow-mcp.yaml, ~/.config/kubeflow-mcp/config.yaml)',
  },
];

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The flags of a `serve` command line as commander would give them ({persona, logLevel, banner...}),
 * or undefined when the line needs commander (help, version, a mistake to explain).
 */
export function parseServeFlags(argv: string[]): Record<string, unknown> | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const keys: Record<string, string> = {};
  for (const o of SERVE_OPTIONS) {
    const m = o.flags.match(/^(?:-(\w), )?--([\w-]+)(?: <\w+>)?$/)!;
    options[m[2]] = { type: o.flags.includes('<') ? 'string' : 'boolean', ...(m[1] ? { short: m[1] } : {}) };
    keys[m[2]] = m[2] === 'no-banner' ? 'banner' : camel(m[2]);
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch {
    return undefined;
  }
  const flags: Record<string, unknown> = { banner: true };
  for (const [k, v] of Object.entries(values)) flags[keys[k]] = k === 'no-banner' ? !v : v;
  return flags;
}
