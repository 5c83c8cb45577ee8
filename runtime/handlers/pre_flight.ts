// One call before training: compatibility, free GPUs, an estimate for model=, the runtimes, and
// which training tool and runtime to use, with the reasons. Each claim is about this cluster and
// this model: GPUs are counted for the resource name the chosen runtime requests (an NVIDIA job
// cannot use AMD GPUs), a torchtune runtime is recommended only when its recipe is for this
// model, and a GPU plan is offered only when enough nodes have it free at the same time.
// Why a handler: the recommendation is a decision tree over five results (compatibility, capacity
// per GPU resource, the estimate, recipe fits, placement with a QLoRA retry), with sentences built
// at each branch; as CEL it would be one unreadable expression per field.
import type { PreFlightInput } from '../../generated/index.ts';
import type { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import { compatibility } from '../trainer/compatibility.ts';
import { clusterResources, freeOn } from '../trainer/cluster.ts';
import { estimateFor } from '../trainer/estimate.ts';
import { allRuntimes } from '../trainer/lookup.ts';
import { summarizeRuntime, trainerJobOf } from '../trainer/views.ts';
import { fitOf, modelFacts, type RecipeFit } from '../trainer/recipes.ts';
import { lookupModel } from '../trainer/models.ts';

/** The resource the tools' `gpu` shorthand asks for, and so what a runtime without its own GPU request gets. */
const DEFAULT_GPU = 'nvidia.com/gpu';
const GPU_KEY = /^(nvidia\.com\/(gpu|mig-.+)|amd\.com\/gpu|gpu\.intel\.com\/.+)$/;

/** The GPU resource name a runtime's trainer container requests, if it names one. */
function gpuResourceOf(rt: Record<string, any>): string | undefined {
  const node = (trainerJobOf(rt)?.template?.spec?.template?.spec?.containers ?? []).find((c: any) => c.name === 'node');
  const res = { ...(node?.resources?.requests ?? {}), ...(node?.resources?.limits ?? {}) };
  return Object.keys(res).find((k) => GPU_KEY.test(k));
}

type Cluster = Awaited<ReturnType<typeof clusterResources>>;

/** GPUs of one resource name: in all, free, and what other GPU resources have free. */
function gpusFor(cluster: Cluster, resource: string) {
  const a = cluster.accelerators[resource];
  const others = Object.fromEntries(Object.entries(cluster.gpu_free_by_resource).filter(([k]) => k !== resource));
  return {
    resource,
    total: a?.allocatable ?? 0,
    free: a?.free ?? 0,
    max_free_per_node: freeOn(cluster, resource)[0] ?? 0,
    ...(Object.keys(others).length ? { other_gpus_free: others } : {}),
  };
}

const TORCH_FIRST = ['torch', 'deepspeed'];
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The smallest GPU count per node at which `nodes` nodes can each hold one replica now: a node
 * counts when it has that many GPUs free and, when its labels give the GPU memory, they hold the
 * estimate (with 10 % headroom); a node of unknown GPU memory is taken to have the estimate's.
 */
function fitNodes(
  list: Array<{ free: number; memory_gb?: number }>,
  e: { gpu_memory_required_gb: number; gpu_per_worker: number },
  nodes: number,
) {
  const need = (mem?: number) =>
    mem ? Math.max(1, Math.ceil(e.gpu_memory_required_gb / (mem * 0.9))) : e.gpu_per_worker;
  const counts = [...new Set(list.map((n) => need(n.memory_gb)))].sort((a, b) => a - b);
  const count = (p: number) => list.filter((n) => n.free >= p && p >= need(n.memory_gb)).length;
  const tried = counts.map((p) => ({ perNode: p, count: count(p) }));
  const ok = tried.find((t) => t.count >= nodes);
  const best = tried.reduce((b, t) => (t.count > b.count ? t : b), { perNode: e.gpu_per_worker, count: 0 });
  const chosen = ok ?? best;
  return { ...chosen, feasible: !!ok, best, unknownMemory: list.some((n) => !n.memory_gb) };
}

export default async function preFlight(input: PreFlightInput, ctx: ToolContext) {
  // The pipeline resolved the namespace (input, else the kubeconfig's) and checked it against the policy.
  const ns = ctx.namespace;
  const compat = await compatibility(ctx, ns);
  const next_steps: string[] = [];
  const notSelf = (r: string) => !/\bpre_flight\(/.test(r);
  if (!compat.compatible) return { compatibility: compat, next_steps: compat.blockers.map((b) => `Blocker: ${b}`) };
  const cluster = await clusterResources(ctx, 0);
  let est: any;
  if (input.model) {
    try {
      est = await estimateFor({ ...input, model: input.model });
    } catch (e) {
      est = { error: (e as ToolError).message, ...(e as ToolError).details };
    }
  }

  const usable = (await allRuntimes(ctx)).usable;
  const byName = new Map(usable.map((r) => [r.metadata.name as string, r]));
  const runtimes = usable.map(summarizeRuntime);
  const tune = runtimes.filter((r) => r.framework === 'torchtune');
  // The generic path: a script on a torch runtime (torch-distributed first), never "the first runtime".
  const generic = [...runtimes]
    .filter((r) => TORCH_FIRST.includes(r.framework ?? ''))
    .sort(
      (a, b) =>
        TORCH_FIRST.indexOf(a.framework!) - TORCH_FIRST.indexOf(b.framework!) ||
        Number(b.name === 'torch-distributed') - Number(a.name === 'torch-distributed') ||
        a.name.localeCompare(b.name),
    )[0];
  const fits: RecipeFit[] = input.model ? tune.map((r) => fitOf(input.model!, r.name)) : [];
  const match = fits.find((f) => f.fit === 'fits');
  const unsure = fits.filter((f) => f.fit === 'unsure');
  const resourceOf = (name: string | undefined) =>
    (name && byName.has(name) ? gpuResourceOf(byName.get(name)!) : undefined) ?? DEFAULT_GPU;
  const facts = input.model ? modelFacts(input.model) : undefined;
  const size = input.model ? (lookupModel(input.model)?.params_b ?? facts?.params_b) : undefined;
  const modelLabel = input.model
    ? `${input.model}${facts?.family ? ` (${facts.family}${facts.version ?? ''}${size ? `, about ${Math.round(size * 10) / 10}B` : ''})` : ''}`
    : '';
  const recipes = tune.map((r) => fitOf(r.name, r.name).recipe);

  let tool_selection: Record<string, unknown>;
  let gpus = gpusFor(cluster, resourceOf(match?.runtime ?? (input.model ? generic?.name : undefined)));
  const noGpus = gpus.total === 0;
  const otherGpus = gpus.other_gpus_free
    ? Object.entries(gpus.other_gpus_free)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')
    : '';
  if (!runtimes.length) {
    tool_selection = { recommended: null, reason: 'No training runtimes are installed' };
  } else if (noGpus) {
    gpus = gpusFor(cluster, resourceOf(generic?.name));
    tool_selection = generic
      ? {
          recommended: 'run_custom_training',
          runtime: generic.name,
          reason: otherGpus
            ? `no ${gpus.resource} on this cluster, which the runtimes and the gpu shorthand request; ${otherGpus} free can be asked for by name (resources_per_node) with an image built for that vendor`
            : 'no GPUs: torchtune needs NCCL; train with a script on the gloo backend',
        }
      : { recommended: null, reason: 'no GPUs, and no torch runtime for a CPU script' };
  } else if (match) {
    tool_selection = {
      recommended: 'fine_tune',
      runtime: match.runtime,
      confidence: 'high',
      reason: `${match.reason}; ${gpus.free} ${gpus.resource} free${gpus.free === 0 ? ' now (all in use: the job waits until some are released)' : ''}`,
    };
  } else if (input.model && generic) {
    tool_selection = {
      recommended: 'run_custom_training',
      runtime: generic.name,
      fine_tune_runtime: null,
      reason: `no installed torchtune runtime has a recipe for ${modelLabel}${recipes.length ? ` (their recipes: ${recipes.join(', ')})` : ''}: train it with your own script (for example transformers + peft LoRA) on ${generic.name}; ${gpus.free} ${gpus.resource} free`,
      ...(unsure.length
        ? { possible_runtimes: unsure.map((f) => ({ runtime: f.runtime, reason: `may fit: ${f.reason}` })) }
        : {}),
      alternatives: [
        {
          tool: 'create_runtime',
          reason: `a platform admin can add a runtime for ${facts?.family ?? 'this model'} models (an image with its libraries, or a torchtune recipe Trainer supports)`,
        },
      ],
    };
  } else if (input.model) {
    tool_selection = {
      recommended: null,
      reason: `no installed torchtune runtime has a recipe for ${modelLabel}, and no torch runtime is installed for a script of your own`,
    };
  } else if (tune.length) {
    tool_selection = {
      recommended: 'fine_tune',
      runtime: null,
      reason: `each torchtune runtime carries the recipe of one model (${recipes.join(', ')}): pass model= to learn which fits, or none`,
      ...(generic ? { otherwise: { tool: 'run_custom_training', runtime: generic.name } } : {}),
    };
  } else {
    tool_selection = generic
      ? {
          recommended: 'run_custom_training',
          runtime: generic.name,
          reason: 'no torchtune runtime installed: train with a script on a torch runtime',
        }
      : { recommended: null, reason: 'no torchtune or torch runtime is installed' };
  }

  if (cluster.gpu_total === 0)
    next_steps.push(
      'No GPUs detected: LLM fine-tuning needs GPUs; use run_custom_training() with gloo for small CPU jobs',
    );
  else if (noGpus)
    next_steps.push(
      `No ${gpus.resource} detected (${otherGpus} free): the torchtune runtimes and gpu= request ${gpus.resource}; ask for another vendor's GPUs by resource name, with an image built for them`,
    );

  // Placement: every node of the job runs at once, each needing its share free, in GPUs big enough.
  let placement: Record<string, unknown> | undefined;
  if (est?.gpu_per_worker && gpus.total > 0) {
    const nodes = input.num_workers ?? 1;
    const at = (e: any) => fitNodes(cluster.gpu_nodes[gpus.resource] ?? [], e, nodes);
    const p = at(est);
    const alternatives: string[] = [];
    if (!p.feasible) {
      if (nodes > 1 && p.best.count >= 1)
        alternatives.push(
          `fewer nodes: ${plural(p.best.count, 'node')} can each take the model now with ${p.best.perNode} ${gpus.resource} (num_workers=${p.best.count})`,
        );
      if ((input.method ?? 'lora') !== 'qlora') {
        const q = await estimateFor({ ...input, model: input.model!, method: 'qlora' }).catch(() => undefined);
        const qp = q && at(q);
        if (qp?.feasible)
          alternatives.push(
            `QLoRA (method=qlora, quantize_base=true): about ${q!.gpu_memory_required} per replica, ${plural(qp.perNode, 'GPU')} per node on ${plural(qp.count, 'node')} free now`,
          );
      }
      if (!alternatives.length)
        alternatives.push(
          `a smaller model, or waiting for GPUs: no ${nodes > 1 ? `${nodes} nodes` : 'node'} can hold ~${est.gpu_memory_required} per replica in free ${gpus.resource} now`,
        );
    }
    placement = {
      resource: gpus.resource,
      gpus_per_node: p.perNode,
      nodes,
      nodes_that_fit_now: p.count,
      feasible_now: p.feasible,
      ...(p.unknownMemory
        ? {
            note: 'some nodes do not say their GPU memory; they are counted as having the GPUs the estimate recommends',
          }
        : {}),
      ...(alternatives.length ? { alternatives } : {}),
    };
    if (!p.feasible)
      next_steps.push(
        `${nodes > 1 ? `${nodes} nodes are` : 'One node is'} needed at once with room for ~${est.gpu_memory_required} per replica in free ${gpus.resource}, and ${p.count ? `only ${p.count}` : 'none'} ${p.count === 1 ? 'has' : 'have'} that now. Instead: ${alternatives.join('; or ')}`,
      );
    else if (p.perNode > 1)
      next_steps.push(
        `The model needs ~${est.gpu_memory_required} per replica: ask for ${p.perNode} GPUs per node (resources_per_node={'gpu': ${p.perNode}}); ${plural(p.count, 'node')} ${p.count === 1 ? 'has' : 'have'} that free now${(input.method ?? 'lora') !== 'qlora' ? ', and qlora needs less' : ''}`,
      );
  }
  const parallel = input.parallel_trials ?? 1;
  if (parallel > 1 && est?.total_gpu && est.total_gpu * parallel > gpus.free) {
    next_steps.push(
      `${parallel} trials at once need ${est.total_gpu * parallel} GPUs but ${gpus.free} are free: at most ${Math.floor(gpus.free / est.total_gpu)} can run in parallel`,
    );
  }
  if (tool_selection.recommended && tool_selection.runtime)
    next_steps.push(`Preview with ${tool_selection.recommended}() on runtime ${tool_selection.runtime}`);
  else if (tool_selection.recommended)
    next_steps.push(`Preview with ${tool_selection.recommended}() once model= tells which runtime fits`);
  return {
    compatibility: compat,
    cluster: {
      gpu_resource: gpus.resource,
      gpu_total: gpus.total,
      gpu_free: gpus.free,
      max_free_per_node: gpus.max_free_per_node,
      ...(gpus.other_gpus_free ? { other_gpus_free: gpus.other_gpus_free } : {}),
      accelerators: cluster.accelerators,
      node_count: cluster.node_count,
    },
    ...(est ? { estimate: est } : {}),
    ...(placement ? { placement } : {}),
    runtimes: runtimes.map((r) => ({
      name: r.name,
      framework: r.framework,
      trainer_type: r.trainer_type,
      ...(r.framework === 'torchtune'
        ? {
            recipe: fitOf(r.name, r.name).recipe,
            ...(input.model ? { fits_model: fits.find((f) => f.runtime === r.name)?.fit } : {}),
          }
        : {}),
    })),
    tool_selection,
    recommendations: compat.recommendations.filter(notSelf),
    next_steps: next_steps.filter(notSelf),
  };
}
