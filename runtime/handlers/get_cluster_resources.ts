// Accelerators by vendor and resource name, allocatable vs requested by running pods (free), per
// node product labels, CPU and memory. Two list requests whatever the cluster size.
import type { GetClusterResourcesInput } from '../../generated/index.ts';
import type { ToolContext } from '../pipeline.ts';
import { parseQuantity, formatBytes } from '../quantity.ts';

const VENDOR = (k: string) => (k.startsWith('nvidia.com/') ? 'nvidia' : k.startsWith('amd.com/') ? 'amd' : k.startsWith('gpu.intel.com/') ? 'intel' : k.startsWith('google.com/tpu') ? 'google-tpu' : k.startsWith('aws.amazon.com/neuron') ? 'aws-neuron' : undefined);
const PRODUCT_LABELS = ['nvidia.com/gpu.product', 'amd.com/gpu.product-name', 'cloud.google.com/gke-accelerator', 'cloud.google.com/gke-tpu-accelerator', 'gpu.intel.com/product'];

export async function clusterResources(ctx: ToolContext, maxNodes = 50) {
  const [nodes, pods] = await Promise.all([ctx.kube.list('nodes'), ctx.kube.list('pods', { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })]);
  const used = new Map<string, Record<string, number>>();
  for (const p of pods.items) {
    if (!p.spec?.nodeName || ['Succeeded', 'Failed'].includes(p.status?.phase)) continue;
    const u = used.get(p.spec.nodeName) ?? {};
    for (const c of p.spec.containers ?? []) for (const [k, v] of Object.entries({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) })) u[k] = (u[k] ?? 0) + parseQuantity(v);
    used.set(p.spec.nodeName, u);
  }
  const byResource: Record<string, { vendor: string; allocatable: number; requested: number; free: number; nodes: number }> = {};
  const rows = nodes.items.map((n) => {
    const alloc = n.status?.allocatable ?? {};
    const u = used.get(n.metadata.name) ?? {};
    const accel = Object.keys(alloc).filter((k) => VENDOR(k) && parseQuantity(alloc[k]) > 0).map((k) => {
      const a = parseQuantity(alloc[k]), r = u[k] ?? 0;
      const agg = (byResource[k] ??= { vendor: VENDOR(k)!, allocatable: 0, requested: 0, free: 0, nodes: 0 });
      agg.allocatable += a; agg.requested += r; agg.free += Math.max(0, a - r); agg.nodes++;
      return { resource: k, allocatable: a, free: Math.max(0, a - r) };
    });
    const product = PRODUCT_LABELS.map((l) => n.metadata.labels?.[l]).find(Boolean);
    const ready = (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    return {
      name: n.metadata.name, ready, cpu: alloc.cpu, cpu_free: Math.round((parseQuantity(alloc.cpu) - (u.cpu ?? 0)) * 100) / 100,
      memory: alloc.memory, memory_free: formatBytes(parseQuantity(alloc.memory) - (u.memory ?? 0)),
      ...(accel.length ? { accelerators: accel } : {}), ...(product ? { gpu_product: product } : {}),
    };
  });
  const gpuKeys = Object.keys(byResource).filter((k) => !k.startsWith('google.com/tpu'));
  const sum = (f: 'allocatable' | 'free') => gpuKeys.reduce((n, k) => n + byResource[k][f], 0);
  rows.sort((a, b) => (b.accelerators?.length ?? 0) - (a.accelerators?.length ?? 0) || a.name.localeCompare(b.name));
  const gpusOn = (r: (typeof rows)[number]) => (r.accelerators ?? []).filter((a) => !a.resource.startsWith('google.com/tpu')).reduce((n, a) => n + a.allocatable, 0);
  return {
    node_count: rows.length, gpu_total: sum('allocatable'), gpu_free: sum('free'), max_gpus_per_node: rows.reduce((m, r) => Math.max(m, gpusOn(r)), 0),
    max_per_node: Object.fromEntries(Object.keys(byResource).map((k) => [k, rows.reduce((m, r) => Math.max(m, (r.accelerators ?? []).find((a) => a.resource === k)?.allocatable ?? 0), 0)])), nodes_with_gpu: rows.filter((r) => r.accelerators?.some((a) => !a.resource.startsWith('google.com/tpu'))).length,
    accelerators: byResource, nodes: rows.slice(0, maxNodes), ...(rows.length > maxNodes ? { nodes_omitted: rows.length - maxNodes } : {}),
  };
}

export default async function getClusterResources(input: GetClusterResourcesInput, ctx: ToolContext) {
  return clusterResources(ctx, input.max_nodes);
}
