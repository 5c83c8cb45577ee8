// kubeflow-mcp command line: `serve` (the MCP server), `sandbox` (the simulated cluster on its
// own), `status`. Bad flags print one line and exit 2; nothing prints a stack trace to users.
import { existsSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Command, CommanderError } from 'commander';
import { MODULES, TOOLS } from '../generated/index.ts';
import { ConfigError, findPolicyFile, loadPolicy } from './policy.ts';
import { resolveServeConfig } from './config.ts';
import { VERSION } from './version.ts';

function die(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  // commander has already printed its own one-line error
  if (!(e instanceof CommanderError)) process.stderr.write(`kubeflow-mcp: ${msg}\n`);
  process.exit(e instanceof ConfigError || e instanceof CommanderError ? 2 : 1);
}

/** Calls `changed` (debounced) whenever the file at `path` is written, replaced or removed. */
function watchPolicy(path: string, changed: () => void) {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(path);
  try {
    watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file && file.toString() !== name) return;
      clearTimeout(timer);
      timer = setTimeout(changed, 150);
    });
  } catch { /* a directory that cannot be watched: the policy stays as loaded */ }
}

async function serve(flags: Record<string, any>) {
  const cfg = await resolveServeConfig(flags);
  const policyPath = process.env.KUBEFLOW_MCP_POLICY ?? findPolicyFile();
  const policy = await loadPolicy(policyPath);
  const { createLogger } = await import('./logger.ts');
  const { log, ring } = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  const { buildServer } = await import('./server.ts');
  const { Kube } = await import('./k8s/client.ts');
  let kube: InstanceType<typeof Kube>;
  // One deadline for every Kubernetes request (default 10 s).
  const timeoutSeconds = Number(process.env.KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS ?? 10);
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 600)) throw new ConfigError(`invalid KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS "${process.env.KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS}"; expected seconds between 0 and 600`);
  const timeoutMs = timeoutSeconds * 1000;
  let stopSandbox: (() => Promise<void>) | undefined;
  if (cfg.sandbox) {
    const { startSandbox } = await import('./sandbox/index.ts');
    const sb = await startSandbox({ timeScale: cfg.timeScale });
    stopSandbox = sb.stop;
    kube = new Kube({ kubeconfigYaml: sb.kubeconfig, timeoutMs });
    log.info({ url: sb.url }, 'sandbox cluster started in-process');
  } else {
    kube = new Kube({ kubeconfigPath: cfg.kubeconfig, timeoutMs });
  }
  const { server, tools, reloadPolicy } = buildServer({ persona: cfg.persona, mode: cfg.mode, tier: cfg.tier, clients: cfg.clients, policy, kube, log, ring, version: VERSION });
  // A missing or broken kubeconfig is said once, plainly; the tools that need no cluster still work.
  // A missing file is seen at once; an unreadable one when the client library has loaded it, after
  // start-up (loading it first would delay the first answer by the library's import).
  const sayKubeProblem = (problem: string) => {
    const offline = tools.filter((t) => !t.annotations.openWorldHint).map((t) => t.name);
    process.stderr.write(`kubeflow-mcp: ${problem}; serving anyway, but only ${offline.join(', ')} work without a cluster\n`);
  };
  const missing = kube.missingKubeconfig();
  if (missing) sayKubeProblem(missing);
  if (cfg.banner) process.stderr.write(`kubeflow-mcp ${VERSION}: ${tools.length} tools for persona ${cfg.persona} over ${cfg.transport}${cfg.sandbox ? ' on the sandbox cluster' : ''}\n`);
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const transport = new StdioServerTransport();
  // Closing the server closes the transport, which reports onclose again: shut down once.
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await stopSandbox?.();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // The client going away (stdin closed) ends the server too.
  process.stdin.on('end', shutdown);
  transport.onclose = () => { void shutdown(); };
  await server.connect(transport);
  if (policyPath) watchPolicy(policyPath, async () => {
    // A broken or removed file keeps the last good policy (never fewer limits by accident).
    if (!existsSync(policyPath)) { process.stderr.write(`kubeflow-mcp: policy file ${policyPath} was removed; keeping the last policy\n`); return; }
    try {
      const next = await reloadPolicy(await loadPolicy(policyPath));
      log.info({ tools: next.length, policy: policyPath }, 'policy reloaded');
    } catch (e) {
      process.stderr.write(`kubeflow-mcp: ${(e as Error).message}; keeping the last policy\n`);
    }
  });
  if (!missing && !cfg.sandbox) setTimeout(() => { void kube.check().then((p) => { if (p) sayKubeProblem(p); }); }, 500).unref();
  log.info({ persona: cfg.persona, tier: cfg.tier, tools: tools.length, clients: cfg.clients }, 'Starting kubeflow-mcp');
}

async function sandbox(flags: Record<string, any>) {
  const scale = Number(flags.timeScale ?? 1);
  if (!(scale > 0)) throw new ConfigError(`invalid --time-scale "${flags.timeScale}"; expected a number above 0`);
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid --port "${flags.port}"`);
  const { startSandbox } = await import('./sandbox/index.ts');
  const sb = await startSandbox({ port, timeScale: scale, stateFile: flags.state, tls: !!flags.tls });
  const kubeconfig = flags.kubeconfig ?? 'kubeflow-mcp-sandbox.kubeconfig';
  writeFileSync(kubeconfig, sb.kubeconfig);
  process.stdout.write(`Sandbox cluster listening on ${sb.url} (time scale ${scale})\nkubeconfig written to ${kubeconfig}\nTry: KUBECONFIG=${kubeconfig} kubectl get clustertrainingruntimes\nPress Ctrl+C to stop.\n`);
  const stop = async () => { await sb.stop(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function status() {
  const lines = ['Kubeflow MCP Server Status', '-'.repeat(40), `Version: ${VERSION}`, 'Client modules:'];
  for (const [name, m] of Object.entries(MODULES)) {
    const n = TOOLS.filter((t) => t.module === name).length;
    lines.push(`  ${name}: ${m.status === 'implemented' ? 'implemented' : 'not implemented yet'} (${n} tools) - ${m.description}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

const program = new Command('kubeflow-mcp')
  .description('MCP server for Kubeflow Trainer: plan, submit, monitor and manage training jobs')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program.command('serve').description('run the MCP server')
  .option('-c, --clients <list>', 'client modules, comma-separated (trainer, optimizer, hub)')
  .option('-p, --persona <name>', 'readonly | data-scientist | ml-engineer | platform-admin | a policy-file persona')
  .option('-m, --mode <mode>', 'tool mode: full (every tool), progressive (list/describe/execute) or semantic (find/execute)')
  .option('--instruction-tier <tier>', 'full | compact | minimal')
  .option('-t, --transport <transport>', 'stdio')
  .option('-l, --log-level <level>', 'DEBUG | INFO | WARNING | ERROR')
  .option('--log-format <format>', 'json | console')
  .option('--no-banner', 'do not print the start-up line on stderr')
  .option('--sandbox', 'start the built-in sandbox cluster in-process and use it')
  .option('--time-scale <factor>', 'sandbox: multiply simulated durations by this factor (default 0.25)')
  .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG or ~/.kube/config)')
  .option('--config <path>', 'config file (default: ./.kubeflow-mcp.yaml, ~/.kubeflow-mcp.yaml, ~/.config/kubeflow-mcp/config.yaml)')
  .action((flags) => serve(flags).catch(die));

program.command('sandbox').description('run the sandbox cluster (a simulated Kubernetes API with Kubeflow Trainer) in the foreground')
  .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
  .option('--kubeconfig <path>', 'where to write its kubeconfig', 'kubeflow-mcp-sandbox.kubeconfig')
  .option('--time-scale <factor>', 'multiply simulated durations by this factor', '1')
  .option('--state <file>', 'YAML objects that replace the default seed state')
  .option('--tls', 'serve HTTPS with a self-signed certificate (written into the kubeconfig as its CA)')
  .action((flags) => sandbox(flags).catch(die));

program.command('status').description('version and client modules (does not contact a cluster)').action(status);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) process.exit(0);
  die(e);
}
