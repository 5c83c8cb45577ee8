// The TrainJob of run_custom_training (and of optimize's script trials): the script travels inside
// the TrainJob command as text (a quoted heredoc, so the shell expands nothing in it) and runs with
// torchrun, python or mpirun by runtime. Nothing of the script runs on the server host.
import { createHash } from 'node:crypto';
import type { RunCustomTrainingInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import { baseJob, resourcesPerNode, schedulingPatch, splitEnv, type Built } from './submit.ts';

export function buildCommand(script: string, runtime: Record<string, any>, input: RunCustomTrainingInput): string[] {
  const policy = runtime.spec?.mlPolicy ?? {};
  // Derived from the script, so preview and submit agree; a script cannot contain its own hash.
  const delim = `KUBEFLOW_MCP_SCRIPT_${createHash('sha256').update(script).digest('hex').slice(0, 12).toUpperCase()}`;
  const call = input.func_args
    ? `\n\nif __name__ == "__main__" and "train" in globals() and callable(globals()["train"]):\n    train(**${pyDict(input.func_args)})\n`
    : '';
  const file = policy.mpi ? '/home/mpiuser/train.py' : 'train.py';
  const pip = input.packages?.length
    ? `PIP_OPTS=(${(input.pip_index_urls ?? ['https://pypi.org/simple']).map((u, i) => `${i === 0 ? '--index-url' : '--extra-index-url'} ${shellQuote(u)}`).join(' ')})\npython -m pip install --quiet --no-warn-script-location --user "\${PIP_OPTS[@]}" ${input.packages.map(shellQuote).join(' ')} || python -m pip install --quiet "\${PIP_OPTS[@]}" ${input.packages.map(shellQuote).join(' ')}\n`
    : '';
  const runner = policy.torch ? 'torchrun' : 'python';
  const body = `${pip}cat > "${file}" << '${delim}'\n${script}${call}\n${delim}\n${runner} "${file}"`;
  return policy.mpi ? ['mpirun', '--hostfile', '/etc/mpi/hostfile', 'bash', '-c', body] : ['bash', '-c', body];
}

/** One shell word whatever the value holds: single quotes, with embedded ones closed and escaped. */
const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Linux refuses a single exec argument over 128 KiB (MAX_ARG_STRLEN): the pod would never start. */
const MAX_ARG_BYTES = 131072;

function pyDict(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(pyDict).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as object)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyDict(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** The TrainJob (and Secret) a run_custom_training call describes, not yet submitted. */
export async function buildCustomTraining(input: RunCustomTrainingInput, ctx: ToolContext): Promise<Built> {
  if (!input.script.trim()) throw new ToolError('VALIDATION_ERROR', "Invalid input: 'script' is blank");
  if (input.script.includes('\0'))
    throw new ToolError(
      'VALIDATION_ERROR',
      "Invalid input: 'script' contains a NUL character, which no command line can carry",
    );
  const { job, runtime } = await baseJob(
    input,
    ctx,
    input.runtime ?? 'torch-distributed',
    `${(input.runtime ?? 'torch-distributed').replace(/-distributed$/, '')}-script`,
  );
  const { env, secret } = splitEnv(input.env, job.metadata.name);
  const resources = resourcesPerNode(input.resources_per_node, input.gpu_per_node);
  const command = buildCommand(input.script, runtime, input);
  const longest = Math.max(...command.map((c) => Buffer.byteLength(c)));
  if (longest > MAX_ARG_BYTES) {
    throw new ToolError(
      'VALIDATION_ERROR',
      `Invalid input: 'script' makes a command of ${longest} bytes; a container command argument can carry at most ${MAX_ARG_BYTES}`,
      { bytes: longest, limit: MAX_ARG_BYTES },
      'Shorten the script, or put it in an image and use run_container_training.',
    );
  }
  job.spec.trainer = {
    ...(input.image ? { image: input.image } : {}),
    command,
    numNodes: input.num_nodes,
    ...(resources ? { resourcesPerNode: resources } : {}),
    ...(env ? { env } : {}),
  };
  const patches = schedulingPatch(input, ['node']);
  if (patches) job.spec.runtimePatches = patches;
  const warnings: string[] = [];
  if (!/def |import |print\(/.test(input.script)) warnings.push('The script does not look like Python.');
  return { job, secret, runtime, warnings };
}
