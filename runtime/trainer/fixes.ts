// Fixes a failed or stuck job's answer can offer as a ready call: the tool and the arguments of the
// original submit (kept, without secrets, in an annotation) with the one change that addresses the
// failure. The caller previews it like any other submit, so nothing runs without confirmation.
import type { Obj } from '../k8s/client.ts';
import { isSecretName } from '../logger.ts';

export const REQUEST_ANNOTATION = 'kubeflow-mcp/request';
const TRAINING_TOOLS = ['fine_tune', 'run_custom_training', 'run_container_training'];

export interface Fix { tool: string; arguments: Record<string, unknown>; change: string; note?: string }

/** The annotation value for a submit: its tool and arguments without secrets, name or confirmation. */
export function requestAnnotation(tool: string, input: Record<string, unknown>): string {
  const args = Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'confirmed' && k !== 'name' && !isSecretName(k) && k !== 'env'));
  return JSON.stringify({ tool, arguments: args, had_secrets: Object.keys(input).some((k) => isSecretName(k)) || !!input.env });
}

function requestOf(job: Obj): { tool: string; arguments: Record<string, any>; had_secrets?: boolean } | undefined {
  try {
    const r = JSON.parse(job.metadata?.annotations?.[REQUEST_ANNOTATION] ?? '');
    return r && TRAINING_TOOLS.includes(r.tool) && r.arguments && typeof r.arguments === 'object' ? r : undefined;
  } catch { return undefined; }
}

const again = (r: { had_secrets?: boolean }) => (r.had_secrets ? 'Pass the same credentials (hf_token, env secrets) again; they are not kept.' : undefined);

/** Out of memory: a fine-tune retried with QLoRA, then with half the batch. */
export function oomFix(job: Obj): Fix | undefined {
  const r = requestOf(job);
  if (!r || r.tool !== 'fine_tune') return undefined;
  const a = r.arguments;
  if (!a.quantize_base) return { tool: r.tool, arguments: { ...a, quantize_base: true }, change: 'QLoRA: the frozen weights in 4 bits (quantize_base=true) need far less GPU memory', note: again(r) };
  const batch = Number(a.batch_size ?? 4);
  if (batch > 1) return { tool: r.tool, arguments: { ...a, batch_size: Math.floor(batch / 2) }, change: `half the batch size (${batch} -> ${Math.floor(batch / 2)}) halves the activation memory`, note: again(r) };
  return undefined;
}

/** Pods no node can take: the same job with at most as many GPUs per node as the freest node has. */
export function shapeFix(job: Obj, maxFreePerNode: Record<string, number>): Fix | undefined {
  const r = requestOf(job);
  const limits: Record<string, unknown> = job.spec?.trainer?.resourcesPerNode?.limits ?? {};
  const kind = Object.keys(limits).find((k) => /gpu|mig-/.test(k));
  if (!r || !kind) return undefined;
  const asked = Number(limits[kind]);
  const fits = maxFreePerNode[kind] ?? 0;
  if (fits < 1 || fits >= asked) return undefined;
  const nodes = Number(r.arguments.num_nodes ?? 1);
  const totalAsked = asked * nodes;
  const args = { ...r.arguments };
  if (r.tool === 'fine_tune' || args.resources_per_node) args.resources_per_node = { ...(args.resources_per_node ?? {}), gpu: fits };
  else args.gpu_per_node = fits;
  if (r.tool !== 'fine_tune' || nodes > 1) args.num_nodes = Math.max(1, Math.ceil(totalAsked / fits));
  return { tool: r.tool, arguments: args, change: `${fits} ${kind} per node (the most any node has free) instead of ${asked}${args.num_nodes && args.num_nodes !== nodes ? `, on ${args.num_nodes} nodes` : ''}`, note: again(r) };
}

/** A next step naming the fix as a call to preview. */
export const fixStep = (fix: Fix) => `Preview the fix with ${fix.tool}(...) using the arguments in fix.arguments: ${fix.change}`;
