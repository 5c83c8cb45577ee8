// One call before training: compatibility, free GPUs, an estimate for model=, the runtimes, and
// which training tool and runtime to use, with the reasons.
import type { PreFlightInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { compatibility } from './check_compatibility.ts';
import { clusterResources } from './get_cluster_resources.ts';
import { estimateFor } from './estimate_resources.ts';
import { allRuntimes } from '../trainer/lookup.ts';
import { summarizeRuntime } from '../trainer/views.ts';

export default async function preFlight(input: PreFlightInput, ctx: ToolContext) {
  const ns = input.namespace ?? (await ctx.kube.defaultNamespace());
  const compat = await compatibility(ctx, ns);
  const next_steps: string[] = [];
  if (!compat.compatible) return { compatibility: compat, next_steps: compat.blockers.map((b) => `Blocker: ${b}`) };
  const cluster = await clusterResources({ ...ctx, namespace: ns }, 20);
  let est: any;
  if (input.model) { try { est = await estimateFor({ ...input, model: input.model }); } catch (e) { est = { error: (e as ToolError).message, ...(e as ToolError).details }; } }
  const runtimes = (await allRuntimes({ ...ctx, namespace: ns })).usable.map(summarizeRuntime);
  const tune = runtimes.filter((r) => r.framework === 'torchtune');
  const key = (input.model ?? '').toLowerCase().replace(/^hf:\/\//, '').replace(/[-_.]/g, '');
  const matching = tune.find((r) => key && key.includes(r.name.replace('torchtune-', '').replace(/[-_.]/g, '')));
  let tool_selection: Record<string, unknown>;
  if (tune.length && cluster.gpu_free > 0) tool_selection = { recommended: 'fine_tune', runtime: matching?.name ?? tune[0].name, reason: `torchtune runtime${matching ? ` for this model` : ''} and ${cluster.gpu_free} free GPU(s)` };
  else if (runtimes.length) tool_selection = { recommended: 'run_custom_training', runtime: runtimes.find((r) => r.name === 'torch-distributed')?.name ?? runtimes[0].name, reason: cluster.gpu_total === 0 ? 'no GPUs: torchtune needs NCCL; train with a script on the gloo backend' : tune.length ? 'no free GPUs right now' : 'no torchtune runtime installed' };
  else tool_selection = { recommended: null, reason: 'No training runtimes are installed' };
  if (cluster.gpu_total === 0) next_steps.push('No GPUs detected: LLM fine-tuning needs GPUs; use run_custom_training() with gloo for small CPU jobs');
  if (est?.gpu_memory_required_gb && est.gpu_per_worker > 1) next_steps.push(`The model needs ~${est.gpu_memory_required} per replica: consider qlora, or ${est.gpu_per_worker} GPUs per node`);
  const parallel = input.parallel_trials ?? 1;
  if (parallel > 1 && est?.total_gpu && est.total_gpu * parallel > cluster.gpu_free) {
    next_steps.push(`${parallel} trials at once need ${est.total_gpu * parallel} GPUs but ${cluster.gpu_free} are free: at most ${Math.floor(cluster.gpu_free / est.total_gpu)} can run in parallel`);
  }
  if (tool_selection.recommended) next_steps.push(`Preview with ${tool_selection.recommended}() on runtime ${tool_selection.runtime}`);
  return { compatibility: compat, cluster: { gpu_total: cluster.gpu_total, gpu_free: cluster.gpu_free, accelerators: cluster.accelerators, node_count: cluster.node_count }, ...(est ? { estimate: est } : {}), runtimes: runtimes.map((r) => ({ name: r.name, framework: r.framework, trainer_type: r.trainer_type })), tool_selection, recommendations: compat.recommendations.filter((r) => !/\bpre_flight\(/.test(r)), next_steps };
}
