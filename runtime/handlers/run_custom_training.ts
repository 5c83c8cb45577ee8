// run_custom_training: the script travels inside the TrainJob command as text (a quoted heredoc,
// so the shell expands nothing in it) and runs with torchrun, python or mpirun by runtime.
// Nothing of the script runs on the server host.
import { createHash } from 'node:crypto';
import type { RunCustomTrainingInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { baseJob, previewOrSubmit, resourcesPerNode, schedulingPatch, splitEnv, type Built } from '../trainer/submit.ts';

export function buildCommand(script: string, runtime: Record<string, any>, input: RunCustomTrainingInput): string[] {
  const policy = runtime.spec?.mlPolicy ?? {};
  // Derived from the script, so preview and submit agree; a script cannot contain its own hash.
  const delim = `KUBEFLOW_MCP_SCRIPT_${createHash('sha256').update(script).digest('hex').slice(0, 12).toUpperCase()}`;
  const call = input.func_args ? `\n\nif __name__ == "__main__" and "train" in globals() and callable(globals()["train"]):\n    train(**${pyDict(input.func_args)})\n` : '';
  const file = policy.mpi ? '/home/mpiuser/train.py' : 'train.py';
  const pip = input.packages?.length
    ? `PIP_OPTS=(${(input.pip_index_urls ?? ['https://pypi.org/simple']).map((u, i) => `${i === 0 ? '--index-url' : '--extra-index-url'} '${u}'`).join(' ')})\npython -m pip install --quiet --no-warn-script-location --user "\${PIP_OPTS[@]}" ${input.packages.map((p) => `'${p}'`).join(' ')} || python -m pip install --quiet "\${PIP_OPTS[@]}" ${input.packages.map((p) => `'${p}'`).join(' ')}\n`
    : '';
  const runner = policy.torch ? 'torchrun' : 'python';
  const body = `${pip}cat > "${file}" << '${delim}'\n${script}${call}\n${delim}\n${runner} "${file}"`;
  return policy.mpi ? ['mpirun', '--hostfile', '/etc/mpi/hostfile', 'bash', '-c', body] : ['bash', '-c', body];
}

function pyDict(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(pyDict).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `${JSON.stringify(k)}: ${pyDict(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

/** The TrainJob (and Secret) a run_custom_training call describes, not yet submitted. */
export async function buildCustomTraining(input: RunCustomTrainingInput, ctx: ToolContext): Promise<Built> {
  if (!input.script.trim()) throw new ToolError('VALIDATION_ERROR', "Invalid input: 'script' is blank");
  const { job, runtime } = await baseJob(input, ctx, input.runtime ?? 'torch-distributed');
  const { env, secret } = splitEnv(input.env, job.metadata.name);
  const resources = resourcesPerNode(input.resources_per_node, input.gpu_per_node);
  job.spec.trainer = {
    ...(input.image ? { image: input.image } : {}),
    command: buildCommand(input.script, runtime, input),
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

export default async function runCustomTraining(input: RunCustomTrainingInput, ctx: ToolContext) {
  return previewOrSubmit(await buildCustomTraining(input, ctx), ctx, 'custom training job');
}
