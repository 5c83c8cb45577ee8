// Long waits as tasks (the `io.modelcontextprotocol/tasks` extension of the 2026-07-28 revision).
// A wait_for_training or wait_for_optimization call from a client that declares the extension
// answers at once with a task; tasks/get then reports the job's status and progress (step, loss,
// ETA) as the cluster has it; tasks/cancel stops the wait (the job runs on, nothing is deleted);
// the outcome stays readable for a stated time.
//
// Nothing of a task lives in the server's memory. Its id is a signed token naming the tool, the
// namespace and job, the wait's arguments, the caller and when it began, so any replica holding the
// same key can answer for it and a made-up or altered id is refused. Its state is read from the
// job on every poll; a cancellation is written onto the job (an annotation listing the cancelled
// tasks), where every replica sees it.
import type { Signer } from './signing.ts';

export const TASK_TOOLS: Record<string, { resource: string; get: string; what: string }> = {
  wait_for_training: { resource: 'trainjobs', get: 'get_training_job', what: 'training job' },
  wait_for_optimization: { resource: 'optimizationjobs', get: 'get_optimization_job', what: 'optimization job' },
};
export const CANCELLED_ANNOTATION = 'kubeflow-mcp/cancelled-tasks';
/** How long a task's outcome stays readable after its wait would have ended. */
export const RESULT_TTL_MS = 60 * 60_000;
export const POLL_INTERVAL_MS = 5000;
const PURPOSE = 'task';
const KEEP_CANCELLED = 20;

export interface TaskRef {
  v: 1;
  tool: string;
  ns: string;
  name: string;
  args: Record<string, unknown>;
  caller: string;
  created: number;
}

/** What the service needs from the server: tool calls through the pipeline (as this caller) and the job's annotations. */
export interface TaskHost {
  /** Runs a tool through the pipeline; the envelope it answers. */
  run(tool: string, args: Record<string, unknown>): Promise<Record<string, any>>;
  /** Live progress of a training job (step, loss, ETA), when known. */
  progress?(ns: string, name: string): Promise<Record<string, unknown> | undefined>;
  annotations(resource: string, ns: string, name: string): Promise<Record<string, string> | undefined>;
  annotate(resource: string, ns: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** The tool result as tools/call would send it. */
  toolResult(envelope: Record<string, any>): Record<string, unknown>;
}

/** A JSON-RPC error for tasks/*: -32602 for an id that is not a live task of this caller. */
export class TaskError extends Error {
  constructor(
    public code: number,
    message: string,
  ) {
    super(message);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const TERMINAL = new Set(['Complete', 'Failed']);
/** Tool errors that say nothing about the job itself. */
const TRANSIENT = new Set(['RATE_LIMITED', 'TIMEOUT', 'KUBERNETES_ERROR', 'CANCELLED']);

export class TaskService {
  constructor(
    private signer: Signer,
    private now: () => number = Date.now,
  ) {}

  /** Whether this call should run as a task. */
  static applies(tool: string, capabilities: { extensions?: Record<string, unknown> } | undefined): boolean {
    return (
      !!TASK_TOOLS[tool] && !!capabilities?.extensions && 'io.modelcontextprotocol/tasks' in capabilities.extensions
    );
  }

  /** Starts a task for a wait whose arguments validated; answers the task (resultType "task"), or the
   * tool's own error when the job cannot be seen (then no task is made). */
  async create(
    host: TaskHost,
    tool: string,
    args: Record<string, any>,
    ns: string,
    caller: string,
  ): Promise<Record<string, unknown>> {
    const spec = TASK_TOOLS[tool];
    const seen = await host.run(spec.get, { name: args.name, namespace: ns });
    if (seen.success !== true) return host.toolResult(seen);
    const { name, namespace: _ns, polling_interval: _p, ...rest } = args;
    const ref: TaskRef = { v: 1, tool, ns, name, args: rest, caller, created: this.now() };
    const taskId = await this.signer.sign(PURPOSE, ref);
    return {
      resultType: 'task',
      ...this.base(taskId, ref, this.now()),
      status: 'working',
      statusMessage: `Waiting for ${spec.what} '${name}' (${seen.data?.status ?? 'unknown'})`,
    };
  }

  private deadline(ref: TaskRef) {
    return ref.created + Number(ref.args.timeout_seconds ?? (ref.tool === 'wait_for_optimization' ? 1800 : 600)) * 1000;
  }
  private ttlMs(ref: TaskRef) {
    return this.deadline(ref) - ref.created + RESULT_TTL_MS;
  }
  private base(taskId: string, ref: TaskRef, updated: number) {
    return {
      taskId,
      createdAt: iso(ref.created),
      lastUpdatedAt: iso(updated),
      ttlMs: this.ttlMs(ref),
      pollIntervalMs: POLL_INTERVAL_MS,
    };
  }
  /** A short, stable name of a task, as the cancellation annotation lists it. */
  private mark(taskId: string) {
    return taskId.slice(taskId.lastIndexOf('.') + 1, taskId.lastIndexOf('.') + 17);
  }

  /** The task behind an id, if it is one of ours, this caller's, and not expired. */
  private async open(taskId: unknown, caller: string): Promise<TaskRef> {
    const ref = await this.signer.verify<TaskRef>(PURPOSE, taskId);
    if (!ref || ref.v !== 1 || !TASK_TOOLS[ref.tool] || ref.caller !== caller)
      throw new TaskError(-32602, 'Failed to retrieve task: Task not found');
    if (this.now() > ref.created + this.ttlMs(ref))
      throw new TaskError(-32602, 'Failed to retrieve task: Task has expired');
    return ref;
  }

  async get(host: TaskHost, taskId: unknown, caller: string): Promise<Record<string, unknown>> {
    const ref = await this.open(taskId, caller);
    const spec = TASK_TOOLS[ref.tool];
    const id = taskId as string;
    const now = this.now();
    const annotations = await host.annotations(spec.resource, ref.ns, ref.name).catch(() => undefined);
    if (annotations?.[CANCELLED_ANNOTATION]?.split(',').includes(this.mark(id))) {
      return {
        resultType: 'complete',
        ...this.base(id, ref, now),
        status: 'cancelled',
        statusMessage: `The wait was cancelled; ${spec.what} '${ref.name}' was left as it is`,
      };
    }
    const seen = await host.run(spec.get, { name: ref.name, namespace: ref.ns });
    // A read that failed for a passing reason (rate limit, an API server that did not answer) says
    // nothing about the job: the task is still working, and the next poll looks again.
    if (seen.success !== true && TRANSIENT.has(String(seen.error_code))) {
      return {
        resultType: 'complete',
        ...this.base(id, ref, now),
        status: 'working',
        statusMessage: `Could not read ${spec.what} '${ref.name}' just now (${seen.error_code}); poll again`,
      };
    }
    const status: string | undefined = seen.success === true ? seen.data?.status : undefined;
    const targets = new Set(
      [ref.args.target_statuses ?? 'Complete'].flat().map((s) => (s === 'Succeeded' ? 'Complete' : String(s))),
    );
    const over =
      !status ||
      TERMINAL.has(status) ||
      targets.has(status) ||
      (ref.tool === 'wait_for_training' && status === 'Suspended') ||
      now >= this.deadline(ref);
    if (over) {
      // The wait itself answers, at once now that there is nothing to wait for (or no time left).
      const result = await host.run(ref.tool, {
        name: ref.name,
        namespace: ref.ns,
        ...ref.args,
        timeout_seconds: 1,
        polling_interval: 0.05,
      });
      return {
        resultType: 'complete',
        ...this.base(id, ref, now),
        status: 'completed',
        statusMessage:
          result.success === true
            ? String(result.data?.message ?? `${spec.what} '${ref.name}': ${status}`)
            : String(result.error),
        result: host.toolResult(result),
      };
    }
    const progress =
      ref.tool === 'wait_for_training' ? await host.progress?.(ref.ns, ref.name).catch(() => undefined) : undefined;
    return {
      resultType: 'complete',
      ...this.base(id, ref, now),
      status: 'working',
      statusMessage: describe(spec.what, ref.name, status, seen.data, progress),
      ...(progress ? { _meta: { 'kubeflow-mcp/progress': progress } } : {}),
    };
  }

  /** Stops the wait: later polls say cancelled. The job itself is not touched beyond the note. */
  async cancel(host: TaskHost, taskId: unknown, caller: string): Promise<Record<string, unknown>> {
    const ref = await this.open(taskId, caller);
    const spec = TASK_TOOLS[ref.tool];
    const annotations = await host.annotations(spec.resource, ref.ns, ref.name).catch(() => undefined);
    if (annotations) {
      const marks = (annotations[CANCELLED_ANNOTATION] ?? '').split(',').filter(Boolean);
      const mark = this.mark(taskId as string);
      if (!marks.includes(mark))
        await host.annotate(spec.resource, ref.ns, ref.name, {
          [CANCELLED_ANNOTATION]: [...marks, mark].slice(-KEEP_CANCELLED).join(','),
        });
    }
    return { resultType: 'complete' };
  }

  /** Waits ask nothing of the client: an update is acknowledged and changes nothing. */
  async update(_host: TaskHost, taskId: unknown, caller: string): Promise<Record<string, unknown>> {
    await this.open(taskId, caller);
    return { resultType: 'complete' };
  }
}

/** "Running, step 50/100, loss 0.87, about 40 s left" from the job and its log's latest metrics. */
function describe(
  what: string,
  name: string,
  status: string | undefined,
  data: Record<string, any> | undefined,
  progress: Record<string, any> | undefined,
): string {
  const parts = [`${what} '${name}' is ${status ?? 'unknown'}`];
  const p = { ...(data?.progress ?? {}), ...(progress ?? {}) } as Record<string, any>;
  if (p.step !== undefined) parts.push(`step ${p.step}${p.total_steps ? `/${p.total_steps}` : ''}`);
  if (p.loss !== undefined) parts.push(`loss ${p.loss}`);
  const pct = p.progress_percent ?? p.progressPercentage;
  if (pct !== undefined) parts.push(`${pct}%`);
  const eta = p.eta_seconds ?? p.estimatedRemainingSeconds;
  if (eta !== undefined) parts.push(`about ${eta} s left`);
  else if (p.eta) parts.push(`about ${p.eta} left`);
  if (data?.trials) parts.push(`trials ${JSON.stringify(data.trials)}`);
  return parts.join(', ');
}
