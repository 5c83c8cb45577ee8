// Fixes a failed or stuck job's answer can offer as a ready call: the tool and the arguments of the
// original submit (kept, without secrets, in an annotation) with the one change that addresses the
// failure. The caller previews it like any other submit, so nothing runs without confirmation.
import type { Obj } from '../k8s/client.ts';
import { isSecretName } from '../logger.ts';

export const REQUEST_ANNOTATION = 'kubeflow-mcp/request';
const TRAINING_TOOLS = ['fine_tune', 'run_custom_training', 'run_container_training'];

export interface Fix {
  tool: string;
  arguments: Record<string, unknown>;
  change: string;
  note?: string;
}

/** The annotation value for a submit: its tool and arguments without secrets, name or confirmation. */
export function requestAnnotation(tool: string, input: Record<string, unknown>): string {
  const args = Object.fromEntries(
    Object.entries(input).filter(([k]) => k !== 'confirmed' && k !== 'name' && !isSecretName(k) && k !== 'env'),
  );
  return JSON.stringify({
    tool,
    arguments: args,
    had_secrets: Object.keys(input).some((k) => isSecretName(k)) || !!input.env,
  });
}

function requestOf(job: Obj): { tool: string; arguments: Record<string, any>; had_secrets?: boolean } | undefined {
  try {
    const r = JSON.parse(job.metadata?.annotations?.[REQUEST_ANNOTATION] ?? '');
    return r && TRAINING_TOOLS.includes(r.tool) && r.arguments && typeof r.arguments === 'object' ? r : undefined;
  } catch {
    return undefined;
  }
}

const again = (r: { had_secrets?: boolean }) =>
  r.had_secrets ? 'Pass the same credentials (hf_token, env secrets) again; they are not kept.' : undefined;

/** Out of memory: a fine-tune retried with QLoRA, then with half the batch. */
export function oomFix(job: Obj): Fix | undefined {
  const r = requestOf(job);
  if (!r || r.tool !== 'fine_tune') return undefined;
  const a = r.arguments;
  if (!a.quantize_base)
    return {
      tool: r.tool,
      arguments: { ...a, quantize_base: true },
      change: 'QLoRA: the frozen weights in 4 bits (quantize_base=true) need far less GPU memory',
      note: again(r),
    };
  const batch = Number(a.batch_size ?? 4);
  if (batch > 1)
    return {
      tool: r.tool,
      arguments: { ...a, batch_size: Math.floor(batch / 2) },
      change: `half the batch size (${batch} -> ${Math.floor(batch / 2)}) halves the activation memory`,
      note: again(r),
    };
  return undefined;
}

/** How many nodes can each take `perNode` now, from each node's free count. */
export const nodesFitting = (freePerNode: number[], perNode: number) => freePerNode.filter((f) => f >= perNode).length;

/**
 * The shape a job of `nodes` x `asked` GPUs can take on this cluster now. All of a distributed
 * job's nodes run at the same time, so a shape fits only when that many nodes each have its
 * per-node count free. First choice: the same GPUs in all, fewer per node on more nodes (only
 * when the tool can add nodes). Else the most GPUs the cluster can give at once, on fewer nodes
 * or fewer per node. Undefined when even one GPU per node on one node is not free.
 */
export function feasibleShape(
  freePerNode: number[],
  asked: number,
  nodes: number,
  canAddNodes: boolean,
): { perNode: number; nodes: number; sameTotal: boolean } | undefined {
  const total = asked * nodes;
  if (canAddNodes) {
    for (let g = Math.min(asked, freePerNode[0] ?? 0); g >= 1; g--) {
      const n = Math.ceil(total / g);
      if (nodesFitting(freePerNode, g) >= n) return { perNode: g, nodes: n, sameTotal: true };
    }
  }
  let best: { perNode: number; nodes: number; sameTotal: boolean } | undefined;
  for (let g = Math.min(asked, freePerNode[0] ?? 0); g >= 1; g--) {
    const n = Math.min(canAddNodes ? Math.ceil(total / g) : nodes, nodesFitting(freePerNode, g));
    if (n >= 1 && (!best || g * n > best.perNode * best.nodes))
      best = { perNode: g, nodes: n, sameTotal: g * n >= total };
  }
  return best;
}

/**
 * Pods no node can take: the same job in a shape this cluster can run now. `free` is, per GPU
 * resource, either each schedulable node's free count (every shape is checked) or only the most
 * any one node has free (then only shapes that need a single node are offered, as nothing says a
 * second node has as many). No fix when the job's shape already fits or nothing does.
 */
export function shapeFix(job: Obj, free: Record<string, number | number[]>): Fix | undefined {
  const r = requestOf(job);
  const limits: Record<string, unknown> = job.spec?.trainer?.resourcesPerNode?.limits ?? {};
  const kind = Object.keys(limits).find((k) => /gpu|mig-/.test(k));
  if (!r || !kind) return undefined;
  const asked = Number(limits[kind]);
  const known = free[kind];
  const perNodeFree = Array.isArray(known) ? [...known].sort((a, b) => b - a) : known ? [known] : [];
  const nodes = Number(job.spec?.trainer?.numNodes ?? r.arguments.num_nodes ?? 1);
  if (nodesFitting(perNodeFree, asked) >= nodes) return undefined;
  // torchtune runs on one node (the Trainer webhook refuses more for these recipes).
  const canAddNodes = r.tool !== 'fine_tune' && Array.isArray(known);
  const shape = feasibleShape(perNodeFree, asked, nodes, canAddNodes);
  if (!shape || (!Array.isArray(known) && shape.nodes > 1)) return undefined;
  const args = { ...r.arguments };
  if (r.tool === 'fine_tune' || args.resources_per_node)
    args.resources_per_node = { ...(args.resources_per_node ?? {}), gpu: shape.perNode };
  else args.gpu_per_node = shape.perNode;
  if (shape.nodes !== nodes || args.num_nodes !== undefined) args.num_nodes = shape.nodes;
  const was = asked * nodes,
    now = shape.perNode * shape.nodes;
  const where =
    shape.nodes === 1
      ? 'on one node that has them free'
      : `on ${shape.nodes} nodes, each with ${shape.perNode} free now`;
  const change = shape.sameTotal
    ? `${shape.perNode} ${kind} per node ${where}, instead of ${asked} per node on ${nodes}`
    : `${now} ${kind} in all instead of ${was} (${shape.perNode} per node ${where}): the most this cluster has free at once`;
  const fewer = !shape.sameTotal
    ? ' With fewer GPUs training is slower, and a model that needed all of them may not fit: if it runs out of memory, retry with QLoRA (quantize_base=true) or a smaller model.'
    : '';
  const note = [again(r), fewer.trim() || undefined].filter(Boolean).join(' ') || undefined;
  return { tool: r.tool, arguments: args, change, ...(note ? { note } : {}) };
}

/** A next step naming the fix as a call to preview. */
export const fixStep = (fix: Fix) =>
  `Preview the fix with ${fix.tool}(...) using the arguments in fix.arguments: ${fix.change}`;
