// The scheduler and kubelet of the sandbox: binds pods to nodes with enough free resources (or
// leaves them Unschedulable with the scheduler's message), runs container attempts on the clock,
// restarts failing containers once, and serves the attempts' logs.
import { createHash } from 'node:crypto';
import { typeNamed } from '../resources.ts';
import { clone, isoSeconds, type KObject, type Store } from '../store.ts';
import { quantity as parseQuantity } from '../facts.ts';
import type { Clock } from '../clock.ts';
import type { LogLine, LogSource } from '../pod-logs.ts';
import type { Recorder } from './events.ts';
import { planLog, rendezvousError, type LogContext, type Outcome } from './log-lines.ts';

export interface Attempt {
  start: number;
  duration: number;
  end?: number;
  ctx: LogContext;
}
export interface PodPlan {
  duration: number | 'until-stopped';
  ctx: Omit<LogContext, 'attempt'>;
  restarts: number;
  /** Decides the outcome when the container starts (what it depends on may appear after the pod). */
  outcomeAtStart?: () => Outcome;
  /**
   * The container first waits for its peers (one pod per node of a distributed trainer): its run
   * begins only once all `world` of them are running together, and it fails with torch's timeout
   * if they are not within `timeout` (simulated ms).
   */
  rendezvous?: { group: string; world: number; timeout: number };
}

const pods = typeNamed('pods');
const nodes = typeNamed('nodes');
const secrets = typeNamed('secrets');
/** How soon (simulated ms) the kubelet looks again for a Secret a container needs. */
const CONFIG_RETRY_MS = 1000;
const MAX_ATTEMPTS = 2;

/** The ids a container runtime reports for a running container: its image digest and container id. */
function runtimeIds(image: string, podUid: string, container: string) {
  const digest = createHash('sha256').update(image).digest('hex');
  const ref = image.split('@')[0].replace(/:[^/:]+$/, '');
  return {
    imageID: `${ref}@sha256:${digest}`,
    containerID: `containerd://${createHash('sha256').update(`${podUid}/${container}/${Date.now()}`).digest('hex')}`,
  };
}

function requests(pod: KObject): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of pod.spec.containers ?? []) {
    const r = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + parseQuantity(v);
  }
  return out;
}

export class Kubelet implements LogSource {
  private attempts = new Map<string, Attempt[]>();
  private plans = new Map<string, PodPlan>();
  private timers = new Map<string, Array<() => void>>();
  private unschedulable = new Set<string>(); // "ns/name"
  /** node name -> pod uid -> what that pod requests, for every bound pod that has not ended. */
  private usage = new Map<string, Map<string, Record<string, number>>>();
  private nodeOf = new Map<string, string>();
  private retryQueued = false;
  private unsubscribe: () => void;
  /** Rendezvous group -> the pods (uid -> pod) whose containers wait in it now. */
  private waiting = new Map<string, Map<string, KObject>>();
  /** Each waiting pod's timeout, cancelled when the group forms. */
  private rendezvousTimers = new Map<string, () => void>();

  constructor(
    private store: Store,
    private clock: Clock,
    private record: Recorder,
    private onChange: (pod: KObject) => void,
  ) {
    for (const p of store.list(pods)) this.account(p, false);
    this.unsubscribe = store.subscribe((ev) => {
      if (ev.typeKey === '/pods') this.account(ev.object, ev.type === 'DELETED');
    });
  }

  close() {
    this.unsubscribe();
  }

  /** Keep the per-node usage current from the pod's latest state (one pod's work per event). */
  private account(pod: KObject, deleted: boolean) {
    const uid = pod.metadata.uid;
    const was = this.nodeOf.get(uid);
    if (was !== undefined) {
      this.usage.get(was)?.delete(uid);
      this.nodeOf.delete(uid);
    }
    const node = pod.spec?.nodeName;
    if (deleted || !node || ['Succeeded', 'Failed'].includes(pod.status?.phase)) return;
    this.nodeOf.set(uid, node);
    let m = this.usage.get(node);
    if (!m) this.usage.set(node, (m = new Map()));
    m.set(uid, requests(pod));
  }

  private update(pod: KObject, mutate: (p: KObject) => void) {
    const cur = this.store.get(pods, pod.metadata.namespace, pod.metadata.name);
    if (!cur || cur.metadata.deletionTimestamp) return undefined;
    const next = clone(cur);
    mutate(next);
    return this.store.update(pods, next);
  }

  private later(uid: string, ms: number, fn: () => void) {
    const cancel = this.clock.after(ms, fn);
    this.timers.set(uid, [...(this.timers.get(uid) ?? []), cancel]);
  }

  /** A new pod: plan its run and try to schedule it. */
  admit(pod: KObject, plan: PodPlan, scheduleDelay: number) {
    this.plans.set(pod.metadata.uid, plan);
    this.trySchedule(pod, scheduleDelay);
  }

  private freeOn(node: KObject): Record<string, number> {
    const free: Record<string, number> = {};
    for (const [k, v] of Object.entries(node.status?.allocatable ?? {})) free[k] = parseQuantity(v);
    for (const r of this.usage.get(node.metadata.name)?.values() ?? []) {
      for (const [k, v] of Object.entries(r)) free[k] = (free[k] ?? 0) - v;
    }
    return free;
  }

  private trySchedule(pod: KObject, delay: number) {
    const want = requests(pod);
    const all = this.store.list(nodes);
    const selector: Record<string, string> = pod.spec.nodeSelector ?? {};
    const reasons = new Map<string, number>();
    const fit = all.find((n) => {
      if (Object.entries(selector).some(([k, v]) => n.metadata.labels?.[k] !== v)) {
        reasons.set(
          "didn't match Pod's node affinity/selector",
          (reasons.get("didn't match Pod's node affinity/selector") ?? 0) + 1,
        );
        return false;
      }
      const free = this.freeOn(n);
      const short = Object.entries(want).find(([k, v]) => v > 0 && (free[k] ?? 0) < v - 1e-9);
      if (short) {
        const why = `Insufficient ${short[0]}`;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
        return false;
      }
      return true;
    });
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (!fit) {
      const detail = [...reasons].map(([r, n]) => `${n} ${r}`).join(', ');
      const message = `0/${all.length} nodes are available: ${detail}. preemption: 0/${all.length} nodes are available: ${all.length} No preemption victims found for incoming pod.`;
      const first = !this.unschedulable.has(id);
      this.unschedulable.add(id);
      // The scheduler leaves a pod alone when it is still unschedulable for the same reason.
      if (pod.status?.conditions?.[0]?.message === message) return;
      const updated = this.update(pod, (p) => {
        p.status.conditions = [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message,
            lastTransitionTime: isoSeconds(this.clock.now()),
          },
        ];
      });
      if (first && updated) this.record(updated, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      return;
    }
    this.unschedulable.delete(id);
    const bound = this.update(pod, (p) => {
      p.spec.nodeName = fit.metadata.name;
      p.status.conditions = [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: isoSeconds(this.clock.now()) },
      ];
      // The node's kubelet reports its containers from now on, first as being created.
      p.status.containerStatuses = (p.spec.containers ?? []).map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
      }));
      p.status.hostIP = fit.status?.addresses?.[0]?.address ?? '10.0.0.1';
    });
    if (!bound) return;
    this.record(
      bound,
      'Normal',
      'Scheduled',
      `Successfully assigned ${id} to ${fit.metadata.name}`,
      'default-scheduler',
    );
    for (const c of bound.spec.containers ?? [])
      this.record(bound, 'Normal', 'Pulling', `Pulling image "${c.image}"`, 'kubelet');
    this.later(bound.metadata.uid, delay, () => this.startAttempt(bound));
  }

  /** A pod that was already running when the sandbox started (seeded system pods). */
  adoptRunning(pod: KObject, ctx: Omit<LogContext, 'attempt'>) {
    const start = Date.parse(pod.status?.startTime ?? pod.metadata.creationTimestamp);
    this.plans.set(pod.metadata.uid, { duration: 'until-stopped', ctx, restarts: 0 });
    this.attempts.set(pod.metadata.uid, [{ start, duration: Number.MAX_SAFE_INTEGER, ctx: { ...ctx, attempt: 0 } }]);
  }

  /** Retry pods that did not fit, after capacity was freed; many frees in one tick retry once. */
  rescheduleWaiting() {
    if (this.retryQueued || this.unschedulable.size === 0) return;
    this.retryQueued = true;
    setImmediate(() => {
      this.retryQueued = false;
      this.retryWaiting();
    });
  }

  private retryWaiting() {
    for (const id of [...this.unschedulable]) {
      const [ns, name] = id.split('/');
      const p = this.store.get(pods, ns, name);
      if (!p) {
        this.unschedulable.delete(id);
        continue;
      }
      this.trySchedule(p, 1000);
    }
  }

  /**
   * What a container's configuration names and the namespace lacks: a Secret (or one of its keys)
   * that env, envFrom or a volume refers to without `optional: true`. The kubelet does not start
   * such a container; it reports CreateContainerConfigError and tries again.
   */
  private missingConfig(pod: KObject): string | undefined {
    const ns = pod.metadata.namespace;
    const secret = (name: string) => this.store.get(secrets, ns, name);
    for (const c of pod.spec.containers ?? []) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref?.name || ref.optional) continue;
        const s = secret(ref.name);
        if (!s) return `secret "${ref.name}" not found`;
        if (s.data?.[ref.key] === undefined && s.stringData?.[ref.key] === undefined)
          return `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`;
      }
      for (const f of c.envFrom ?? []) {
        if (f.secretRef?.name && !f.secretRef.optional && !secret(f.secretRef.name))
          return `secret "${f.secretRef.name}" not found`;
      }
    }
    for (const v of pod.spec.volumes ?? []) {
      if (v.secret?.secretName && !v.secret.optional && !secret(v.secret.secretName))
        return `secret "${v.secret.secretName}" not found`;
    }
    return undefined;
  }

  private startAttempt(pod: KObject) {
    const plan = this.plans.get(pod.metadata.uid);
    if (!plan) return;
    const missing = this.missingConfig(pod);
    if (missing) {
      const waiting = this.update(pod, (p) => {
        p.status.containerStatuses = (p.status.containerStatuses ?? []).map((c: any) => ({
          ...c,
          ready: false,
          started: false,
          state: { waiting: { reason: 'CreateContainerConfigError', message: missing } },
        }));
      });
      if (!waiting) return;
      if (pod.status?.containerStatuses?.[0]?.state?.waiting?.message !== missing)
        this.record(waiting, 'Warning', 'Failed', `Error: ${missing}`, 'kubelet');
      this.later(pod.metadata.uid, CONFIG_RETRY_MS, () => this.startAttempt(waiting));
      return;
    }
    const list = this.attempts.get(pod.metadata.uid) ?? [];
    const now = this.clock.now();
    // Attempts are kept in clock time: simulated durations shrink with the clock's scale.
    const duration = plan.duration === 'until-stopped' ? Number.MAX_SAFE_INTEGER : this.clock.scale(plan.duration);
    const outcome: Outcome = plan.outcomeAtStart?.() ?? plan.ctx.outcome;
    list.push({ start: now.getTime(), duration, ctx: { ...plan.ctx, outcome, attempt: list.length } });
    this.attempts.set(pod.metadata.uid, list);
    const first = list.length === 1;
    const updated = this.update(pod, (p) => {
      const ts = isoSeconds(now);
      p.status.phase = 'Running';
      p.status.startTime ??= ts;
      p.status.podIP ??= `10.244.${(p.metadata.uid.charCodeAt(0) % 200) + 1}.${(p.metadata.uid.charCodeAt(1) % 250) + 2}`;
      p.status.conditions = [
        {
          type: 'PodScheduled',
          status: 'True',
          lastTransitionTime: p.status.conditions?.[0]?.lastTransitionTime ?? ts,
        },
        { type: 'Initialized', status: 'True', lastTransitionTime: ts },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: ts },
        { type: 'Ready', status: 'True', lastTransitionTime: ts },
      ];
      p.status.containerStatuses = (p.status.containerStatuses ?? []).map((c: any) => ({
        ...c,
        ...runtimeIds(c.image, p.metadata.uid, c.name),
        ready: true,
        started: true,
        state: { running: { startedAt: ts } },
      }));
    });
    if (!updated) return;
    if (first)
      for (const c of updated.spec.containers ?? []) {
        this.record(updated, 'Normal', 'Pulled', `Successfully pulled image "${c.image}"`, 'kubelet');
        this.record(updated, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
        this.record(updated, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
      }
    else {
      this.record(updated, 'Normal', 'Started', `Started container ${updated.spec.containers[0].name}`, 'kubelet');
    }
    this.onChange(updated);
    if (plan.rendezvous) return this.joinRendezvous(updated, plan);
    if (plan.duration !== 'until-stopped')
      this.later(pod.metadata.uid, plan.duration, () => this.finishAttempt(updated, outcome === 'succeed' ? 0 : 1));
  }

  /** Is this pod's container waiting for its peers? */
  inRendezvous(uid: string) {
    return this.rendezvousTimers.has(uid);
  }

  /**
   * A distributed trainer's container waits at the rendezvous: when the last of its peers joins,
   * all of them start training together; if that does not happen within the timeout, it exits 1
   * with torch's error.
   */
  private joinRendezvous(pod: KObject, plan: PodPlan) {
    const z = plan.rendezvous!;
    const uid = pod.metadata.uid;
    const attempt = this.attempts.get(uid)!.at(-1)!;
    attempt.ctx = { ...attempt.ctx, rendezvous: { ...attempt.ctx.rendezvous!, state: 'waiting' } };
    attempt.duration = this.clock.scale(z.timeout);
    let group = this.waiting.get(z.group);
    if (!group) this.waiting.set(z.group, (group = new Map()));
    group.set(uid, pod);
    this.rendezvousTimers.set(
      uid,
      this.clock.after(z.timeout, () => {
        this.rendezvousTimers.delete(uid);
        const members = [...(this.waiting.get(z.group)?.values() ?? [])];
        this.leaveRendezvous(z.group, uid);
        const rdzv = attempt.ctx.rendezvous!;
        const masterUp = members.some((m) => m.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '0');
        attempt.ctx = { ...attempt.ctx, rendezvous: { ...rdzv, state: 'timed-out', joined: members.length, masterUp } };
        this.finishAttempt(pod, 1, rendezvousError(attempt.ctx));
      }),
    );
    if (group.size < z.world) return;
    // Everyone is here: the run starts now for each of them, for the plan's duration.
    this.waiting.delete(z.group);
    for (const [id, member] of group) {
      this.rendezvousTimers.get(id)?.();
      this.rendezvousTimers.delete(id);
      const a = this.attempts.get(id)?.at(-1);
      const p = this.plans.get(id);
      if (!a || !p || p.duration === 'until-stopped') continue;
      a.start = this.clock.now().getTime();
      a.duration = this.clock.scale(p.duration);
      a.ctx = { ...a.ctx, rendezvous: { ...a.ctx.rendezvous!, state: 'formed' } };
      const outcome = a.ctx.outcome;
      this.later(id, p.duration, () => this.finishAttempt(member, outcome === 'succeed' ? 0 : 1));
    }
  }

  private leaveRendezvous(group: string, uid: string) {
    const g = this.waiting.get(group);
    g?.delete(uid);
    if (g && g.size === 0) this.waiting.delete(group);
  }

  private dropFromRendezvous(uid: string) {
    this.rendezvousTimers.get(uid)?.();
    this.rendezvousTimers.delete(uid);
    const z = this.plans.get(uid)?.rendezvous;
    if (z) this.leaveRendezvous(z.group, uid);
  }

  /** End the current attempt; `exitCode` 0 succeeds, anything else fails (and may restart). */
  finishAttempt(pod: KObject, exitCode: number, message?: string) {
    const list = this.attempts.get(pod.metadata.uid);
    const cur = list?.[list.length - 1];
    if (!cur || cur.end !== undefined) return;
    const now = this.clock.now();
    cur.end = Math.min(now.getTime(), cur.start + cur.duration);
    const plan = this.plans.get(pod.metadata.uid)!;
    const restart = exitCode !== 0 && list!.length < Math.min(MAX_ATTEMPTS, plan.restarts + 1);
    this.dropFromRendezvous(pod.metadata.uid);
    const terminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      ...(message ? { message } : {}),
      startedAt: isoSeconds(new Date(cur.start)),
      finishedAt: isoSeconds(now),
    };
    const updated = this.update(pod, (p) => {
      p.status.containerStatuses = p.status.containerStatuses.map((c: any, i: number) => {
        if (restart && i === 0)
          return {
            ...c,
            ready: false,
            restartCount: (c.restartCount ?? 0) + 1,
            lastState: { terminated },
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off 10s restarting failed container=${c.name} pod=${p.metadata.name}`,
              },
            },
          };
        return { ...c, ready: false, started: false, state: { terminated } };
      });
      if (!restart) {
        p.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
        const ts = isoSeconds(now);
        p.status.conditions = (p.status.conditions ?? []).map((c: any) =>
          c.type === 'Ready' || c.type === 'ContainersReady'
            ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: ts }
            : c,
        );
      }
    });
    if (!updated) return;
    if (restart) {
      this.record(
        updated,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${updated.spec.containers[0].name} in pod ${updated.metadata.name}`,
        'kubelet',
      );
      this.later(pod.metadata.uid, 1500, () => this.startAttempt(updated));
    }
    this.onChange(updated);
    if (!restart) this.rescheduleWaiting();
  }

  /** Stop a pod for good (its Job finished elsewhere, or it was suspended). */
  stop(pod: KObject) {
    this.dropFromRendezvous(pod.metadata.uid);
    for (const c of this.timers.get(pod.metadata.uid) ?? []) c();
    this.timers.delete(pod.metadata.uid);
    this.unschedulable.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  forget(uid: string) {
    this.dropFromRendezvous(uid);
    for (const c of this.timers.get(uid) ?? []) c();
    this.timers.delete(uid);
    this.attempts.delete(uid);
    this.plans.delete(uid);
  }

  read(pod: KObject, container: string, previous: boolean): { lines: LogLine[]; finished: boolean } {
    const list = this.attempts.get(pod.metadata.uid) ?? [];
    const a = previous ? list[list.length - 2] : list[list.length - 1];
    if (!a) return { lines: [], finished: true };
    const main = pod.spec.containers?.[0]?.name;
    if (container !== main) return { lines: [], finished: a.end !== undefined };
    const span = a.duration === Number.MAX_SAFE_INTEGER ? this.clock.scale(60_000) : a.duration;
    const horizon = a.end ?? this.clock.now().getTime();
    const lines = planLog(a.ctx)
      .map((l) => ({ at: a.start + Math.round(l.frac * span), text: l.text }))
      .filter((l) => l.at <= horizon);
    return { lines, finished: a.end !== undefined };
  }
}
