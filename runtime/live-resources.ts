// Live resources: TrainJobs as MCP resource templates (trainjob://{namespace}/{name} and its /logs),
// subscriptions fed by one shared Kubernetes watch (never one per subscriber, never polling), and
// completions for prompt arguments and template variables (jobs, runtimes, namespaces, models).
// Reads go through the tool pipeline, so persona, namespace policy and masking all apply.
import type { Obj } from './k8s/client.ts';
import type { ServerState } from './context.ts';
import { runTool } from './pipeline.ts';
import { checkNamespace } from './policy.ts';

/** A name-only projection, for completions. */
const NAMES = { key: 'names', project: (o: Record<string, any>) => o.metadata.name as string };

export const TEMPLATES = [
  {
    uriTemplate: 'trainjob://{namespace}/{name}',
    name: 'trainjob',
    description: 'A TrainJob: status, steps, conditions and the latest metrics (loss, step, ETA)',
    mimeType: 'application/json',
  },
  {
    uriTemplate: 'trainjob://{namespace}/{name}/logs',
    name: 'trainjob-logs',
    description: "The last 200 log lines of a TrainJob's first trainer node",
    mimeType: 'text/plain',
  },
];

const URI = /^trainjob:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z]([-a-z0-9]*[a-z0-9])?)(\/logs)?$/;
const parseJobUri = (uri: string) => {
  const m = URI.exec(uri);
  return m ? { namespace: m[1], name: m[3], logs: !!m[5] } : undefined;
};

/** Step, loss and throughput from the last lines of a training log (torchtune and torchrun styles). */
/**
 * The latest training metrics in a log: loss, step (and total steps), learning rate, throughput and
 * the time left, from torchtune's lines (`1|50|Loss: 0.87`, `Step 50 | loss:0.87 lr:3e-05
 * tokens_per_second_per_gpu:1650`), tqdm bars (`50/100 [00:20<00:20, 2.5it/s]`), Hugging Face
 * Trainer dicts (`{'loss': 0.87, 'learning_rate': 3e-05}`) and plain `step=50 loss=0.87` lines.
 */
export function metricsFromLog(text: string) {
  const lines = text.trim().split('\n').reverse();
  const find = (re: RegExp) => {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return m;
    }
    return undefined;
  };
  const loss = find(/'?loss'?\s*[=:]\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)/i);
  const step = find(/(?:\bstep[=:\s]+|^\d+\|)(\d+)/i);
  const lr = find(/(?:\blr[=:]|'learning_rate':\s*)([0-9.]+(?:e[-+]?\d+)?)/i);
  const tokens = find(/tokens_per_second_per_gpu:([0-9.]+)/);
  const rate = find(/([0-9]*\.?[0-9]+)\s*(it\/s|s\/it|samples\/s|tokens\/s)/i);
  const bar = find(/\b(\d+)\/(\d+) \[(\d+:\d+(?::\d+)?)<(\d+:\d+(?::\d+)?)/);
  return {
    ...(loss ? { loss: Number(loss[1]) } : {}),
    ...(step ? { step: Number(step[1]) } : {}),
    ...(bar ? { total_steps: Number(bar[2]), eta: bar[4] } : {}),
    ...(lr ? { learning_rate: Number(lr[1]) } : {}),
    ...(tokens ? { throughput: `${tokens[1]} tokens/s per GPU` } : rate ? { throughput: rate[0] } : {}),
  };
}

/**
 * One Kubernetes watch of TrainJobs for every LiveResources of a process that reads the cluster
 * with the same client and namespaces (every session, and every 2026-07-28 listen, of a server):
 * started by the first subscriber, stopped when the last one leaves. Each event is told once per
 * job change (status, suspension), not per resourceVersion bump.
 */
class SharedWatch {
  private listeners = new Set<(uri: string) => void>();
  private digests = new Map<string, string>();
  private stops: Array<() => void> = [];
  private started?: Promise<void>;
  watches = 0;

  constructor(
    private kube: ServerState['kube'],
    private namespaces: string[] | undefined,
    private forget: () => void,
  ) {}

  async join(listener: (uri: string) => void) {
    this.listeners.add(listener);
    this.started ??= this.start();
    await this.started.catch((e) => {
      this.started = undefined;
      throw e;
    });
  }

  leave(listener: (uri: string) => void) {
    this.listeners.delete(listener);
    if (this.listeners.size) return;
    for (const s of this.stops) s();
    this.stops = [];
    this.started = undefined;
    this.forget();
  }

  private async start() {
    const onEvent = (_type: string, job: Obj) => {
      const base = `trainjob://${job.metadata?.namespace}/${job.metadata?.name}`;
      const digest = JSON.stringify([
        job.spec?.suspend,
        job.status?.conditions,
        job.status?.trainerStatus,
        job.status?.jobsStatus,
      ]);
      if (this.digests.get(base) === digest) return;
      this.digests.set(base, digest);
      for (const l of this.listeners) l(base);
    };
    for (const ns of this.namespaces ?? [undefined]) {
      this.stops.push(await this.kube.watch('trainjobs', ns, onEvent));
      this.watches++;
    }
  }
}

/** The shared watches of a process, by Kubernetes client (an impersonating client is a caller's own) and namespaces. */
const sharedWatches = new WeakMap<object, Map<string, SharedWatch>>();
function sharedWatch(kube: ServerState['kube'], namespaces: string[] | undefined): SharedWatch {
  let byNs = sharedWatches.get(kube);
  if (!byNs) {
    byNs = new Map();
    sharedWatches.set(kube, byNs);
  }
  const key = JSON.stringify(namespaces ?? null);
  let w = byNs.get(key);
  if (!w) {
    w = new SharedWatch(kube, namespaces, () => byNs.delete(key));
    byNs.set(key, w);
  }
  return w;
}

export class LiveResources {
  /** resources/subscribe of a 2025 connection (a set: subscribing twice is subscribing once). */
  private subscriptions = new Set<string>();
  /** Resources named by open subscriptions/listen requests, with how many name each. */
  private listened = new Map<string, number>();
  private watch?: SharedWatch;
  private readonly onChange = (base: string) => {
    for (const uri of [base, `${base}/logs`])
      if (this.subscriptions.has(uri) || this.listened.has(uri)) void this.notify(uri).catch(() => {});
  };

  constructor(
    private state: ServerState,
    private notify: (uri: string) => Promise<void>,
  ) {}

  /** How many Kubernetes watches serve the subscriptions (one, or one per allowed namespace), shared with the process's other sessions. */
  get watches() {
    return this.watch?.watches ?? 0;
  }

  private allowed(ns: string) {
    try {
      checkNamespace(this.state.policy, ns);
      return true;
    } catch {
      return false;
    }
  }

  async read(uri: string): Promise<{ mimeType: string; text: string } | undefined> {
    const ref = parseJobUri(uri);
    if (!ref) return undefined;
    if (ref.logs) {
      const r: any = await runTool(this.state, 'get_training_logs', {
        name: ref.name,
        namespace: ref.namespace,
        tail_lines: 200,
      });
      if (!r.success) throw new Error(r.error);
      return { mimeType: 'text/plain', text: r.data.logs };
    }
    const r: any = await runTool(this.state, 'get_training_job', { name: ref.name, namespace: ref.namespace });
    if (!r.success) throw new Error(r.error);
    const logs: any =
      r.data.status === 'Running' || r.data.status === 'Complete' || r.data.status === 'Failed'
        ? await runTool(this.state, 'get_training_logs', { name: ref.name, namespace: ref.namespace, tail_lines: 50 })
        : undefined;
    const eta = r.data.progress?.estimatedRemainingSeconds;
    const metrics = {
      ...(logs?.success ? metricsFromLog(logs.data.logs) : {}),
      ...(eta !== undefined ? { eta_seconds: eta } : {}),
      ...(r.data.progress?.progressPercentage !== undefined
        ? { progress_percent: r.data.progress.progressPercentage }
        : {}),
    };
    const { next_steps, ...job } = r.data;
    return { mimeType: 'application/json', text: JSON.stringify({ ...job, metrics }) };
  }

  private check(uri: string) {
    const ref = parseJobUri(uri);
    if (!ref) throw new Error(`Unknown resource ${uri}`);
    if (!this.allowed(ref.namespace))
      throw new Error(`Namespace '${ref.namespace}' is not allowed by the server policy`);
  }

  /** The first subscription joins the shared watch (starting it if no session has); later ones only add a name. */
  private async ensureWatch() {
    this.watch ??= sharedWatch(this.state.kube, this.state.policy.policy?.namespaces);
    await this.watch.join(this.onChange);
  }

  private release() {
    if (this.subscriptions.size || this.listened.size || !this.watch) return;
    this.watch.leave(this.onChange);
    this.watch = undefined;
  }

  /** resources/subscribe (2025 era). */
  async subscribe(uri: string) {
    this.check(uri);
    this.subscriptions.add(uri);
    await this.ensureWatch();
  }

  unsubscribe(uri: string) {
    this.subscriptions.delete(uri);
    this.release();
  }

  /** A resource named by a subscriptions/listen request (2026-07-28), held until `leave`. */
  async join(uri: string) {
    this.check(uri);
    this.listened.set(uri, (this.listened.get(uri) ?? 0) + 1);
    await this.ensureWatch();
  }

  leave(uri: string) {
    const n = (this.listened.get(uri) ?? 0) - 1;
    if (n > 0) this.listened.set(uri, n);
    else this.listened.delete(uri);
    this.release();
  }

  close() {
    this.subscriptions.clear();
    this.listened.clear();
    this.release();
  }

  /**
   * Values for a prompt argument or template variable that start with what was typed. Names come
   * from watch-fed name lists (see k8s/list-cache.ts): completing among 10,000 jobs makes no request.
   */
  async complete(kind: string | undefined, typed: string, namespace?: string): Promise<string[]> {
    const ns = namespace ?? (await this.state.kube.defaultNamespace().catch(() => 'default'));
    const names = (resource: string, namespace?: string) =>
      (this.state.kube.listProjected(resource, { namespace }, NAMES) as Promise<string[]>).catch(() => [] as string[]);
    let values: string[] = [];
    if (kind === 'models') values = (await import('./trainer/models.ts')).CATALOGUE.map((m) => m.id);
    else if (kind === 'namespaces') values = (await names('namespaces')).filter((n) => this.allowed(n));
    else if (kind === 'jobs' && this.allowed(ns)) values = await names('trainjobs', ns);
    else if (kind === 'runtimes')
      values = [
        ...(await names('clustertrainingruntimes')),
        ...(this.allowed(ns) ? await names('trainingruntimes', ns) : []),
      ];
    const t = typed.toLowerCase();
    return [...new Set(values)]
      .filter((v) => v.toLowerCase().startsWith(t) || (t.length > 1 && v.toLowerCase().includes(t)))
      .sort();
  }
}
