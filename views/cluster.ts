// The cluster view: nodes, GPUs by vendor, and free against allocated capacity, from
// get_cluster_resources or from pre_flight's cluster section (with its checks and estimate).
import { badge, facts, h, section, table } from './dom.ts';
import type { Ctx, Envelope } from './host.ts';

/** A bar of used against total (used = allocatable - free). */
function usage(free: number, total: number): HTMLElement {
  const used = Math.max(0, total - free);
  const pct = total ? Math.round((100 * used) / total) : 0;
  return h(
    'div',
    { class: 'usage' },
    h('div', { class: 'progress' }, h('div', { style: `width:${pct}%` })),
    h('span', { class: 'muted' }, `${free} free of ${total}`),
  );
}

function accelerators(acc: Record<string, any> | undefined): HTMLElement | null {
  if (!acc || !Object.keys(acc).length) return null;
  return section(
    'GPUs by vendor',
    table(
      ['Vendor', 'Resource', 'Nodes', 'Allocated', 'Free'],
      Object.entries(acc).map(([resource, a]) => [
        a.vendor ?? '',
        resource,
        String(a.nodes ?? ''),
        String(a.requested ?? Math.max(0, a.allocatable - a.free)),
        usage(Number(a.free ?? 0), Number(a.allocatable ?? 0)),
      ]),
      (i) => ({ 'data-vendor': String(Object.values(acc)[i]?.vendor ?? '') }),
    ),
  );
}

export function clusterView(ctx: Ctx, env: Envelope) {
  const d = env.data ?? {};
  const parts: Array<HTMLElement | null> = [
    h('h1', {}, ctx.tool === 'pre_flight' ? 'Pre-flight' : 'Cluster resources'),
  ];
  if (!env.success) {
    ctx.root.replaceChildren(...(parts as HTMLElement[]), h('div', { class: 'notice err' }, env.error ?? 'Failed'));
    return;
  }
  const cluster = ctx.tool === 'pre_flight' ? (d.cluster ?? {}) : d;
  if (ctx.tool === 'pre_flight' && d.compatibility) {
    const checks = Object.entries<any>(d.compatibility.checks ?? {});
    parts.push(
      section(
        'Compatibility',
        h('p', {}, d.compatibility.compatible ? 'Compatible' : 'Not compatible'),
        table(
          ['Check', 'Result'],
          checks.map(([k, c]) => [k, badge(String(c.status))]),
        ),
      ),
    );
  }
  parts.push(
    facts([
      ['Nodes', cluster.node_count],
      ['GPUs', cluster.gpu_total !== undefined ? `${cluster.gpu_free} free of ${cluster.gpu_total}` : undefined],
    ]),
  );
  parts.push(accelerators(cluster.accelerators));
  if (Array.isArray(cluster.nodes)) {
    parts.push(
      section(
        'Nodes',
        table(
          ['Node', 'Ready', 'GPU', 'GPUs free', 'CPU free', 'Memory free'],
          cluster.nodes.map((n: any) => [
            n.name,
            n.ready ? 'yes' : 'no',
            n.gpu_product ?? '',
            (n.accelerators ?? []).map((a: any) => `${a.free}/${a.allocatable} ${a.resource}`).join(', '),
            `${n.cpu_free} of ${n.cpu}`,
            `${n.memory_free} of ${n.memory}`,
          ]),
          (i) => ({ 'data-node': cluster.nodes[i].name }),
        ),
      ),
    );
  }
  if (ctx.tool === 'pre_flight' && d.estimate)
    parts.push(
      section(
        'Estimate',
        facts([
          ['Model', d.estimate.resolved_model ?? d.estimate.model],
          ['GPU memory', d.estimate.gpu_memory_required],
          ['Recommendation', d.estimate.recommendation],
        ]),
      ),
    );
  if (Array.isArray(d.recommendations) && d.recommendations.length)
    parts.push(section('Recommendations', h('ul', {}, ...d.recommendations.map((r: string) => h('li', {}, r)))));
  ctx.root.replaceChildren(...parts.filter((p): p is HTMLElement => !!p));
}
