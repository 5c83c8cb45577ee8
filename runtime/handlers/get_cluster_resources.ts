// Accelerators by vendor and resource name, allocatable vs requested by running pods (free), per
// node product labels, CPU and memory. Nodes and pods are read as small rows from watch-fed caches
// (one paged list each on the first call, none after), so 20,000 pods cost a sum, not a 60 MB list.
import type { GetClusterResourcesInput } from '../../generated/index.ts';
import type { ToolContext } from '../pipeline.ts';
import { parseQuantity, formatBytes } from '../quantity.ts';

const VENDOR = (k: string) => (k.startsWith('nvidia.com/') ? 'nvidia' : k.startsWith('amd.com/') ? 'amd' : k.startsWith('gpu.intel.com/') ? 'intel' : k.startsWith('google.com/tpu') ? 'google-tpu' : k.startsWith('aws.amazon.com/neuron') ? 'aws-neuron' : undefined);
const PRODUCT_LABELS = ['nvidia.com/gpu.product', 'amd.com/gpu.product-name', 'cloud.google.com/gke-accelerator', 'cloud.google.com/gke-tpu-accelerator', 'gpu.intel.com/product'];

interface PodRow { node: string; use: Record<string, number> }
interface NodeRow { name: string; alloc: Record<string, string>; product?: string; ready: boolean }

/** A pod holds what its containers ask for while it is bound and has not ended. */
const POD_ROWS = {
  key: 'cluster-resources.pods',
  project: (p: Record<string, any>): PodRow | null => {
    if (!p.spec?.nodeName || ['Succeeded', 'Failed'].includes(p.status?.phase)) return null;
    const use: Record<string, number> = {};
    for (const c of p.spec.containers ?? []) for (const [k, v] of Object.entries({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) })) use[k] = (use[k] ?? 0) + parseQuantity(v);
    return { node: p.spec.nodeName, use };
  },
};
const NODE_ROWS = {
  key: 'cluster-resources.nodes',
  project: (n: Record<string, any>): NodeRow => ({
    name: n.metadata.name, alloc: n.status?.allocatable ?? {},
    product: PRODUCT_LABELS.map((l) => n.metadata.labels?.[l]).find(Boolean),
    ready: (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  }),
};

export async function clusterResources(ctx: ToolContext, maxNodes = 50) {
  const [nodes, pods] = await Promise.all([ctx.kube.listProjected('nodes', {}, NODE_ROWS) as Promise<NodeRow[]>, ctx.kube.listProjected('pods', {}, POD_ROWS) as Promise<Array<PodRow | null>>]);
  const used = new Map<string, Record<string, number>>();
  for (const p of pods) {
    if (!p) continue;
    let u = used.get(p.node);
    if (!u) used.set(p.node, (u = {}));
    for (const k in p.use) u[k] = (u[k] ?? 0) + p.use[k];
  }
  const byResource: Record<string, { vendor: string; allocatable: number; requested: number; free: number; nodes: number }> = {};
  const rows = nodes.map((n) => {
    const alloc = n.alloc;
    const u = used.get(n.name) ?? {};
    const accel = Object.keys(alloc).filter((k) => VENDOR(k) && parseQuantity(alloc[k]) > 0).map((k) => {
      const a = parseQuantity(alloc[k]), r = u[k] ?? 0;
      const agg = (byResource[k] ??= { vendor: VENDOR(k)!, allocatable: 0, requested: 0, free: 0, nodes: 0 });
      agg.allocatable += a; agg.requested += r; agg.free += Math.max(0, a - r); agg.nodes++;
      return { resource: k, allocatable: a, free: Math.max(0, a - r) };
    });
    const product = n.product;
    return {
      name: n.name, ready: n.ready, cpu: alloc.cpu, cpu_free: Math.round((parseQuantity(alloc.cpu) - (u.cpu ?? 0)) * 100) / 100,
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
