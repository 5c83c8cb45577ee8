// Accelerators by vendor and resource name, allocatable vs requested by running pods (free), per
// node product labels, CPU and memory. Nodes and pods are read as small rows from watch-fed caches
// (one paged list each on the first call, none after), so 20,000 pods cost a sum, not a 60 MB list.
// GPUs of different vendors are not interchangeable (a pod asks for one resource name), so the
// answer counts them per resource name as well as in all.
import type { ToolContext } from '../context.ts';
import { parseQuantity, formatBytes } from '../quantity.ts';

const VENDOR = (k: string) =>
  k.startsWith('nvidia.com/')
    ? 'nvidia'
    : k.startsWith('amd.com/')
      ? 'amd'
      : k.startsWith('gpu.intel.com/')
        ? 'intel'
        : k.startsWith('google.com/tpu')
          ? 'google-tpu'
          : k.startsWith('aws.amazon.com/neuron')
            ? 'aws-neuron'
            : undefined;
const PRODUCT_LABELS = [
  'nvidia.com/gpu.product',
  'amd.com/gpu.product-name',
  'cloud.google.com/gke-accelerator',
  'cloud.google.com/gke-tpu-accelerator',
  'gpu.intel.com/product',
];

interface PodRow {
  node: string;
  use: Record<string, number>;
}
interface NodeRow {
  name: string;
  alloc: Record<string, string>;
  product?: string;
  ready: boolean;
  schedulable: boolean;
  gpuMemoryGb?: number;
}

/** Memory of one GPU of a product, for nodes whose labels give a product but no size. */
const PRODUCT_GB: Array<[RegExp, number]> = [
  [/(\d+)\s*GB?\b/i, 0],
  [/H200/i, 141],
  [/H100|H800|A100.*80|GH200/i, 80],
  [/L40|A6000|A40\b/i, 48],
  [/A100/i, 40],
  [/L4\b|A10G?\b|4090|A5000/i, 24],
  [/T4|V100|A4000|P100/i, 16],
  [/MI300/i, 192],
  [/MI250/i, 128],
  [/MI210/i, 64],
];

/** One GPU's memory on a node: the GPU feature discovery labels, else the product name. */
function gpuMemoryGb(labels: Record<string, string> = {}, product?: string): number | undefined {
  const mib = Number(labels['nvidia.com/gpu.memory']);
  if (mib > 0) return Math.round(mib / 1024);
  const vram = labels['amd.com/gpu.vram'];
  if (vram && parseQuantity(vram) > 0) return Math.round(parseQuantity(vram) / 1e9);
  if (!product) return undefined;
  for (const [re, gb] of PRODUCT_GB) {
    const m = re.exec(product);
    if (m) return gb || Number(m[1]);
  }
  return undefined;
}

/** A pod holds what its containers ask for while it is bound and has not ended. */
const POD_ROWS = {
  key: 'cluster-resources.pods',
  project: (p: Record<string, any>): PodRow | null => {
    if (!p.spec?.nodeName || ['Succeeded', 'Failed'].includes(p.status?.phase)) return null;
    const use: Record<string, number> = {};
    for (const c of p.spec.containers ?? [])
      for (const [k, v] of Object.entries({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) }))
        use[k] = (use[k] ?? 0) + parseQuantity(v);
    return { node: p.spec.nodeName, use };
  },
};
const NODE_ROWS = {
  key: 'cluster-resources.nodes',
  project: (n: Record<string, any>): NodeRow => ({
    name: n.metadata.name,
    alloc: n.status?.allocatable ?? {},
    product: PRODUCT_LABELS.map((l) => n.metadata.labels?.[l]).find(Boolean),
    ready: (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    schedulable: !n.spec?.unschedulable,
    gpuMemoryGb: gpuMemoryGb(n.metadata.labels, PRODUCT_LABELS.map((l) => n.metadata.labels?.[l]).find(Boolean)),
  }),
};

export async function clusterResources(ctx: ToolContext, maxNodes = 50) {
  const [nodes, pods] = await Promise.all([
    ctx.kube.listProjected('nodes', {}, NODE_ROWS) as Promise<NodeRow[]>,
    ctx.kube.listProjected('pods', {}, POD_ROWS) as Promise<Array<PodRow | null>>,
  ]);
  const used = new Map<string, Record<string, number>>();
  for (const p of pods) {
    if (!p) continue;
    let u = used.get(p.node);
    if (!u) used.set(p.node, (u = {}));
    for (const k in p.use) u[k] = (u[k] ?? 0) + p.use[k];
  }
  const byResource: Record<
    string,
    { vendor: string; allocatable: number; requested: number; free: number; nodes: number }
  > = {};
  const rows = nodes.map((n) => {
    const alloc = n.alloc;
    const u = used.get(n.name) ?? {};
    const accel = Object.keys(alloc)
      .filter((k) => VENDOR(k) && parseQuantity(alloc[k]) > 0)
      .map((k) => {
        const a = parseQuantity(alloc[k]),
          r = u[k] ?? 0;
        const agg = (byResource[k] ??= { vendor: VENDOR(k)!, allocatable: 0, requested: 0, free: 0, nodes: 0 });
        agg.allocatable += a;
        agg.requested += r;
        agg.free += Math.max(0, a - r);
        agg.nodes++;
        return { resource: k, allocatable: a, free: Math.max(0, a - r) };
      });
    const product = n.product;
    return {
      name: n.name,
      ready: n.ready,
      cpu: alloc.cpu,
      cpu_free: Math.round((parseQuantity(alloc.cpu) - (u.cpu ?? 0)) * 100) / 100,
      memory: alloc.memory,
      memory_free: formatBytes(parseQuantity(alloc.memory) - (u.memory ?? 0)),
      ...(accel.length ? { accelerators: accel } : {}),
      ...(product ? { gpu_product: product } : {}),
    };
  });
  // What each node that can take pods has free, per resource, most first: a job whose nodes must
  // all run at once fits only if enough nodes each have its per-node request free.
  const free_per_node: Record<string, number[]> = {};
  const gpu_nodes: Record<string, Array<{ free: number; memory_gb?: number }>> = {};
  nodes.forEach((n, i) => {
    if (!n.ready || !n.schedulable) return;
    for (const a of rows[i].accelerators ?? []) {
      (free_per_node[a.resource] ??= []).push(a.free);
      (gpu_nodes[a.resource] ??= []).push({ free: a.free, ...(n.gpuMemoryGb ? { memory_gb: n.gpuMemoryGb } : {}) });
    }
  });
  for (const k in free_per_node) free_per_node[k].sort((a, b) => b - a);
  const gpuKeys = Object.keys(byResource).filter((k) => !k.startsWith('google.com/tpu'));
  const sum = (f: 'allocatable' | 'free') => gpuKeys.reduce((n, k) => n + byResource[k][f], 0);
  rows.sort((a, b) => (b.accelerators?.length ?? 0) - (a.accelerators?.length ?? 0) || a.name.localeCompare(b.name));
  const gpusOn = (r: (typeof rows)[number]) =>
    (r.accelerators ?? [])
      .filter((a) => !a.resource.startsWith('google.com/tpu'))
      .reduce((n, a) => n + a.allocatable, 0);
  return {
    node_count: rows.length,
    gpu_total: sum('allocatable'),
    gpu_free: sum('free'),
    max_gpus_per_node: rows.reduce((m, r) => Math.max(m, gpusOn(r)), 0),
    max_per_node: Object.fromEntries(
      Object.keys(byResource).map((k) => [
        k,
        rows.reduce((m, r) => Math.max(m, (r.accelerators ?? []).find((a) => a.resource === k)?.allocatable ?? 0), 0),
      ]),
    ),
    nodes_with_gpu: rows.filter((r) => r.accelerators?.some((a) => !a.resource.startsWith('google.com/tpu'))).length,
    gpu_free_by_resource: Object.fromEntries(gpuKeys.map((k) => [k, byResource[k].free])),
    accelerators: byResource,
    free_per_node,
    gpu_nodes,
    nodes: rows.slice(0, maxNodes),
    ...(rows.length > maxNodes ? { nodes_omitted: rows.length - maxNodes } : {}),
  };
}

/** Of `resource`, the free count of every node that can take pods, most first. */
export const freeOn = (cluster: { free_per_node: Record<string, number[]> }, resource: string) =>
  cluster.free_per_node[resource] ?? [];
