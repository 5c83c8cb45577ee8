// How the command line ends on an error: one line on stderr, exit 2 for bad flags or files.
/** commander has printed its own one-line error for its errors (their codes start with "commander."). */
const fromCommander = (e: unknown) => typeof (e as any)?.code === 'string' && (e as any).code.startsWith('commander.');

export function die(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  if (!fromCommander(e)) process.stderr.write(`kubeflow-mcp: ${msg}\n`);
  // By name: the lazily loaded part of the bundle has its own copy of the class.
  process.exit((e as Error)?.name === 'ConfigError' || fromCommander(e) ? 2 : 1);
}
