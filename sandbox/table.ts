// meta.k8s.io Table rendering, so `kubectl get` prints the same columns as on a real cluster.
import type { ResourceType } from './resources.ts';
import type { KObject } from './store.ts';

/** A column; priority 1 columns are the ones `-o wide` adds. */
interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  get: (o: KObject) => unknown;
}

/** The tiny JSONPath subset printer columns use: `.a.b`, `[n]`, `[-1:]`. */
export function jsonPath(o: unknown, path: string): unknown {
  let cur: any = o;
  for (const part of path.replace(/^\./, '').split('.')) {
    const m = part.match(/^([^[]*)(?:\[(-?\d+)(:?)\])?$/);
    if (!m) return undefined;
    if (m[1]) cur = cur?.[m[1]];
    if (m[2] !== undefined && Array.isArray(cur)) {
      const i = Number(m[2]);
      cur = m[3] ? cur.slice(i)[0] : cur[i < 0 ? cur.length + i : i];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', get: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'date', get: (o) => o.metadata.creationTimestamp };

function podReady(o: KObject) {
  const cs = o.status?.containerStatuses ?? [];
  return `${cs.filter((c: any) => c.ready).length}/${(o.spec?.containers ?? []).length}`;
}
function podStatus(o: KObject) {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const c of o.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason && o.status?.phase !== 'Succeeded') return c.state.terminated.reason;
  }
  return o.status?.phase === 'Succeeded' ? 'Completed' : (o.status?.phase ?? 'Pending');
}

const nodeReady = (o: KObject) => {
  const c = (o.status?.conditions ?? []).find((x: any) => x.type === 'Ready');
  return c?.status === 'True' ? 'Ready' : 'NotReady';
};
const nodeRoles = (o: KObject) =>
  Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice(24))
    .sort()
    .join(',') || '<none>';
const address = (o: KObject, type: string) =>
  (o.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
const duration = (o: KObject) => {
  const start = Date.parse(o.status?.startTime ?? ''),
    end = Date.parse(o.status?.completionTime ?? '');
  if (Number.isNaN(start)) return '';
  const s = Math.max(0, Math.floor(((Number.isNaN(end) ? Date.now() : end) - start) / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
};

const ACCESS_MODES: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};
const lastTrue = (o: KObject) => [...(o.status?.conditions ?? [])].reverse().find((c: any) => c.status === 'True');
/** An OptimizationJob's trials as finished/planned, from its controller's condition message. */
const trials = (o: KObject) => {
  const c = lastTrue(o);
  const running = String(c?.message ?? '').match(/^(\d+) of (\d+) trials finished/);
  if (running) return `${running[1]}/${running[2]}`;
  const ended = String(c?.message ?? '').match(/^(?:all )?(\d+) trials (?:finished|failed)/);
  return ended ? `${ended[1]}/${ended[1]}` : undefined;
};

const BUILTIN: Record<string, Column[]> = {
  persistentvolumeclaims: [
    name,
    { name: 'Status', type: 'string', get: (o) => o.status?.phase ?? 'Pending' },
    { name: 'Volume', type: 'string', get: (o) => o.spec?.volumeName ?? '' },
    { name: 'Capacity', type: 'string', get: (o) => o.status?.capacity?.storage ?? '' },
    {
      name: 'Access Modes',
      type: 'string',
      get: (o) => (o.status?.accessModes ?? []).map((m: string) => ACCESS_MODES[m] ?? m).join(','),
    },
    { name: 'StorageClass', type: 'string', get: (o) => o.spec?.storageClassName ?? '' },
    { name: 'VolumeAttributesClass', type: 'string', get: (o) => o.spec?.volumeAttributesClassName ?? '<unset>' },
    age,
    { name: 'VolumeMode', type: 'string', priority: 1, get: (o) => o.spec?.volumeMode ?? '' },
  ],
  // The OptimizationJob CRD (Trainer master) declares no printer columns; these say what `get` needs.
  optimizationjobs: [
    name,
    { name: 'Status', type: 'string', get: (o) => lastTrue(o)?.type ?? 'Created' },
    { name: 'Trials', type: 'string', get: trials },
    { name: 'Best', type: 'string', get: (o) => o.status?.result?.trainJobName ?? '' },
    age,
  ],
  pods: [
    name,
    { name: 'Ready', type: 'string', get: podReady },
    { name: 'Status', type: 'string', get: podStatus },
    {
      name: 'Restarts',
      type: 'integer',
      get: (o) => (o.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0),
    },
    age,
    { name: 'IP', type: 'string', priority: 1, get: (o) => o.status?.podIP },
    { name: 'Node', type: 'string', priority: 1, get: (o) => o.spec?.nodeName },
    { name: 'Nominated Node', type: 'string', priority: 1, get: (o) => o.status?.nominatedNodeName },
    {
      name: 'Readiness Gates',
      type: 'string',
      priority: 1,
      get: (o) => (o.spec?.readinessGates?.length ? `0/${o.spec.readinessGates.length}` : undefined),
    },
  ],
  jobs: [
    name,
    {
      name: 'Status',
      type: 'string',
      get: (o) =>
        (o.status?.conditions ?? []).find((c: any) => c.status === 'True' && ['Complete', 'Failed'].includes(c.type))
          ?.type ?? (o.spec?.suspend ? 'Suspended' : 'Running'),
    },
    { name: 'Completions', type: 'string', get: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}` },
    { name: 'Duration', type: 'string', get: duration },
    age,
    {
      name: 'Containers',
      type: 'string',
      priority: 1,
      get: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(','),
    },
    {
      name: 'Images',
      type: 'string',
      priority: 1,
      get: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(','),
    },
  ],
  nodes: [
    name,
    { name: 'Status', type: 'string', get: nodeReady },
    { name: 'Roles', type: 'string', get: nodeRoles },
    age,
    { name: 'Version', type: 'string', get: (o) => o.status?.nodeInfo?.kubeletVersion },
    { name: 'Internal-IP', type: 'string', priority: 1, get: (o) => address(o, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, get: (o) => address(o, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, get: (o) => o.status?.nodeInfo?.osImage },
    { name: 'Kernel-Version', type: 'string', priority: 1, get: (o) => o.status?.nodeInfo?.kernelVersion },
    { name: 'Container-Runtime', type: 'string', priority: 1, get: (o) => o.status?.nodeInfo?.containerRuntimeVersion },
  ],
  namespaces: [name, { name: 'Status', type: 'string', get: (o) => o.status?.phase ?? 'Active' }, age],
  events: [
    { name: 'Last Seen', type: 'date', get: (o) => o.lastTimestamp },
    { name: 'Type', type: 'string', get: (o) => o.type },
    { name: 'Reason', type: 'string', get: (o) => o.reason },
    {
      name: 'Object',
      type: 'string',
      get: (o) => `${o.involvedObject?.kind?.toLowerCase()}/${o.involvedObject?.name}`,
    },
    { name: 'Message', type: 'string', get: (o) => o.message },
  ],
};

export function columnsFor(t: ResourceType, crd?: KObject): Column[] {
  if (BUILTIN[t.plural]) return BUILTIN[t.plural];
  const printer = crd?.spec?.versions?.[0]?.additionalPrinterColumns as
    | Array<{ name: string; type: string; jsonPath: string; format?: string }>
    | undefined;
  if (printer?.length)
    return [
      name,
      ...printer.map((p) => ({
        name: p.name,
        type: p.type,
        format: p.format,
        get: (o: KObject) => jsonPath(o, p.jsonPath),
      })),
    ];
  return [name, age];
}

const ageText = (ts: string | undefined, now: Date) => {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(ts)) / 1000));
  return s < 120
    ? `${s}s`
    : s < 7200
      ? `${Math.floor(s / 60)}m`
      : s < 172800
        ? `${Math.floor(s / 3600)}h`
        : `${Math.floor(s / 86400)}d`;
};

/** includeObject: None (cells only), Metadata (the default: partial metadata) or Object (the whole object). */
export function toTable(
  cols: Column[],
  items: KObject[],
  listMeta: Record<string, unknown>,
  now: Date,
  includeObject = 'Metadata',
) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => {
        const v = c.get(o);
        return c.type === 'date' ? ageText(v as string, now) : (v ?? '<none>');
      }),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
