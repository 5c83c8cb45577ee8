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
  { uriTemplate: 'trainjob://{namespace}/{name}', name: 'trainjob', description: 'A TrainJob: status, steps, conditions and the latest metrics (loss, step, ETA)', mimeType: 'application/json' },
  { uriTemplate: 'trainjob://{namespace}/{name}/logs', name: 'trainjob-logs', description: 'The last 200 log lines of a TrainJob\'s first trainer node', mimeType: 'text/plain' },
];

const URI = /^trainjob:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z]([-a-z0-9]*[a-z0-9])?)(\/logs)?$/;
const parseJobUri = (uri: string) => { const m = URI.exec(uri); return m ? { namespace: m[1], name: m[3], logs: !!m[5] } : undefined; };

/** Step, loss and throughput from the last lines of a training log (torchtune and torchrun styles). */
/**
 * The latest training metrics in a log: loss, step (and total steps), learning rate, throughput and
 * the time left, from torchtune's lines (`1|50|Loss: 0.87`, `Step 50 | loss:0.87 lr:3e-05
 * tokens_per_second_per_gpu:1650`), tqdm bars (`50/100 [00:20<00:20, 2.5it/s]`), Hugging Face
 * Trainer dicts (`{'loss': 0.87, 'learning_rate': 3e-05}`) and plain `step=50 loss=0.87` lines.
 */
export function metricsFromLog(text: string) {
  const lines = text.trim().split('\n').reverse();
  const find = (re: RegExp) => { for (const l of lines) { const m = re.exec(l); if (m) return m; } return undefined; };
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

export class LiveResources {
  private subscriptions = new Set<string>();
  private digests = new Map<string, string>();
  private stops: Array<() => void> = [];
  private watching?: Promise<void>;
  /** How many Kubernetes watches serve the subscriptions (one, or one per allowed namespace). */
  watches = 0;

  constructor(private state: ServerState, private notify: (uri: string) => Promise<void>) {}

  private allowed(ns: string) { try { checkNamespace(this.state.policy, ns); return true; } catch { return false; } }

  async read(uri: string): Promise<{ mimeType: string; text: string } | undefined> {
    const ref = parseJobUri(uri);
    if (!ref) return undefined;
    if (ref.logs) {
      const r: any = await runTool(this.state, 'get_training_logs', { name: ref.name, namespace: ref.namespace, tail_lines: 200 });
      if (!r.success) throw new Error(r.error);
      return { mimeType: 'text/plain', text: r.data.logs };
    }
    const r: any = await runTool(this.state, 'get_training_job', { name: ref.name, namespace: ref.namespace });
    if (!r.success) throw new Error(r.error);
    const logs: any = r.data.status === 'Running' || r.data.status === 'Complete' || r.data.status === 'Failed'
      ? await runTool(this.state, 'get_training_logs', { name: ref.name, namespace: ref.namespace, tail_lines: 50 }) : undefined;
    const eta = r.data.progress?.estimatedRemainingSeconds;
    const metrics = { ...(logs?.success ? metricsFromLog(logs.data.logs) : {}), ...(eta !== undefined ? { eta_seconds: eta } : {}), ...(r.data.progress?.progressPercentage !== undefined ? { progress_percent: r.data.progress.progressPercentage } : {}) };
    const { next_steps, ...job } = r.data;
    return { mimeType: 'application/json', text: JSON.stringify({ ...job, metrics }) };
  }

  /** Subscribing starts the shared watch once; later subscriptions only join it. */
  async subscribe(uri: string) {
    const ref = parseJobUri(uri);
    if (!ref) throw new Error(`Unknown resource ${uri}`);
    if (!this.allowed(ref.namespace)) throw new Error(`Namespace '${ref.namespace}' is not allowed by the server policy`);
    this.subscriptions.add(uri);
    this.watching ??= this.startWatch();
    await this.watching;
  }

  unsubscribe(uri: string) { this.subscriptions.delete(uri); }

  private async startWatch() {
    const allowed = this.state.policy.policy?.namespaces;
    const onEvent = (_type: string, job: Obj) => {
      const base = `trainjob://${job.metadata?.namespace}/${job.metadata?.name}`;
      const digest = JSON.stringify([job.spec?.suspend, job.status?.conditions, job.status?.trainerStatus, job.status?.jobsStatus]);
      if (this.digests.get(base) === digest) return;
      this.digests.set(base, digest);
      for (const uri of [base, `${base}/logs`]) if (this.subscriptions.has(uri)) void this.notify(uri).catch(() => {});
    };
    for (const ns of allowed ?? [undefined]) {
      this.stops.push(await this.state.kube.watch('trainjobs', ns, onEvent));
      this.watches++;
    }
  }

  close() { for (const s of this.stops) s(); }

  /**
   * Values for a prompt argument or template variable that start with what was typed. Names come
   * from watch-fed name lists (see k8s/list-cache.ts): completing among 10,000 jobs makes no request.
   */
  async complete(kind: string | undefined, typed: string, namespace?: string): Promise<string[]> {
    const ns = namespace ?? (await this.state.kube.defaultNamespace().catch(() => 'default'));
    const names = (resource: string, namespace?: string) => (this.state.kube.listProjected(resource, { namespace }, NAMES) as Promise<string[]>).catch(() => [] as string[]);
    let values: string[] = [];
    if (kind === 'models') values = (await import('./trainer/models.ts')).CATALOGUE.map((m) => m.id);
    else if (kind === 'namespaces') values = (await names('namespaces')).filter((n) => this.allowed(n));
    else if (kind === 'jobs' && this.allowed(ns)) values = await names('trainjobs', ns);
    else if (kind === 'runtimes') values = [...(await names('clustertrainingruntimes')), ...(this.allowed(ns) ? await names('trainingruntimes', ns) : [])];
    const t = typed.toLowerCase();
    return [...new Set(values)].filter((v) => v.toLowerCase().startsWith(t) || (t.length > 1 && v.toLowerCase().includes(t))).sort();
  }
}
