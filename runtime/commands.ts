// The kubeflow-mcp command line through commander: help, version, `sandbox`, `agent`, `status`, and
// `serve` whenever its line needs commander's help or error messages.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { MODULES, TOOLS } from '../generated/index.ts';
import { ConfigError } from './policy.ts';
import { die } from './exit.ts';
import { commandOptions, SERVE_OPTIONS } from './serve-options.ts';
import { AGENT_DESCRIPTION, AGENT_OPTIONS, HANDED_ON_OPTIONS } from './agent/options.ts';
import { serve } from './serve.ts';
import { loadSandbox } from './sandbox-loader.ts';
import { VERSION } from './version.ts';
import { checkEnvironment } from './settings.ts';

/** A command's variables checked (a bad value is a ConfigError), and each undeclared one of ours named on stderr. */
function checkVariables(command: 'sandbox' | 'agent') {
  for (const w of checkEnvironment(command)) process.stderr.write(`kubeflow-mcp: WARNING ${w}\n`);
}

async function sandbox(flags: Record<string, any>) {
  checkVariables('sandbox');
  const scale = Number(flags.timeScale ?? 1);
  if (!(scale > 0)) throw new ConfigError(`invalid --time-scale "${flags.timeScale}"; expected a number above 0`);
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid --port "${flags.port}"`);
  const { startSandbox, PLATFORMS } = await loadSandbox();
  if (flags.platform !== undefined && !PLATFORMS.includes(flags.platform))
    throw new ConfigError(`invalid --platform "${flags.platform}"; expected one of: ${PLATFORMS.join(', ')}`);
  if (flags.keep && !flags.state)
    throw new ConfigError('--keep needs --state <file>: the file the sandbox keeps its state in');
  const idle = flags.idleExit === undefined ? undefined : Number(flags.idleExit);
  if (idle !== undefined && !(idle > 0))
    throw new ConfigError(`invalid --idle-exit "${flags.idleExit}"; expected seconds above 0`);
  const sb = await startSandbox({
    port,
    timeScale: scale,
    stateFile: flags.state,
    keepState: !!flags.keep,
    tls: !!flags.tls,
    platform: flags.platform,
  });
  const kubeconfig = flags.kubeconfig ?? 'kubeflow-mcp-sandbox.kubeconfig';
  writeFileSync(kubeconfig, sb.kubeconfig);
  process.stdout.write(
    `Sandbox cluster listening on ${sb.url} (time scale ${scale}${flags.platform ? `, shaped as ${flags.platform}` : ''})\nkubeconfig written to ${kubeconfig}\nTry: KUBECONFIG=${kubeconfig} kubectl get clustertrainingruntimes\n${flags.keep ? `State kept in ${flags.state}; \`serve --sandbox --sandbox-state ${flags.state}\` joins this cluster.\n` : ''}Press Ctrl+C to stop.\n`,
  );
  const stop = async () => {
    await sb.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (idle) void sb.idle(idle).then(stop);
}

function status() {
  const lines = ['Kubeflow MCP Server Status', '-'.repeat(40), `Version: ${VERSION}`, 'Client modules:'];
  for (const [name, m] of Object.entries(MODULES)) {
    const n = TOOLS.filter((t) => t.module === name).length;
    lines.push(
      `  ${name}: ${m.status === 'implemented' ? 'implemented' : 'not implemented yet'} (${n} tools) - ${m.description}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

const program = new Command('kubeflow-mcp')
  .description('MCP server for Kubeflow Trainer: plan, submit, monitor and manage training jobs')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const serveCommand = program.command('serve').description('run the MCP server');
for (const o of SERVE_OPTIONS) serveCommand.option(o.flags, o.description);
serveCommand.action((flags) => serve(flags).catch(die));

const sandboxCommand = program
  .command('sandbox')
  .description('run the sandbox cluster (a simulated Kubernetes API with Kubeflow Trainer) in the foreground');
for (const o of commandOptions('sandbox')) sandboxCommand.option(o.flags, o.description, o.default);
sandboxCommand.action((flags) => sandbox(flags).catch(die));

const agentCommand = program.command('agent').description(AGENT_DESCRIPTION);
for (const o of [...AGENT_OPTIONS, ...HANDED_ON_OPTIONS]) agentCommand.option(o.flags, o.description);
agentCommand.action((flags) =>
  Promise.resolve()
    .then(() => checkVariables('agent'))
    .then(() => import('./agent/index.ts'))
    .then((m) => m.runAgent(flags))
    .catch(die),
);

program.command('status').description('version and client modules (does not contact a cluster)').action(status);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const code = (e as { code?: string })?.code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exit(0);
  die(e);
}
