// The simulated OptimizationJob controller (Trainer master, v1alpha1). It samples the search space
// (grid in declared order, or seeded random), renders the TrainJob template once per trial by
// replacing {{.name}} placeholders, keeps up to parallelTrials trials running, reads each finished
// trial's objective from status.trainerStatus.metrics, and writes conditions and the best result.
// Trials are TrainJobs owned by the OptimizationJob, so deleting it deletes them.
import { typeNamed } from '../resources.ts';
import { clone, isoSeconds, type KObject, type Store } from '../store.ts';
import type { Clock } from '../clock.ts';
import { TRAINER_CONTROLLER, ownerRef } from './build.ts';
import { eventRecorder, type Recorder } from './events.ts';
import { WorkQueue } from './work-queue.ts';

import { TRIAL_INDEX_LABEL, TRIAL_OF_LABEL, TRIAL_PARAMETERS_ANNOTATION } from '../facts.ts';

export { TRIAL_INDEX_LABEL, TRIAL_OF_LABEL, TRIAL_PARAMETERS_ANNOTATION };

const T = { ojs: typeNamed('optimizationjobs'), trainjobs: typeNamed('trainjobs') };
const condTrue = (o: KObject | undefined, type: string) =>
  (o?.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');
const done = (o: KObject) => condTrue(o, 'Complete') || condTrue(o, 'Failed');

/** Seeded PRNG (mulberry32), so a seed always draws the same trials. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fmt = (v: number, int: boolean) => (int ? String(Math.round(v)) : String(Number(v.toPrecision(6))));

/** Every trial's parameter values, in trial order. Grid: the cartesian product of the choices. */
export function sampleTrials(spec: any, fallbackSeed: number): Array<Record<string, string>> {
  const params: any[] = spec.parameters ?? [];
  const total: number = spec.numTrials ?? 1;
  if (spec.searchAlgorithm?.grid) {
    let rows: Array<Record<string, string>> = [{}];
    for (const p of params)
      rows = rows.flatMap((r) =>
        p.searchSpace.categorical.choices.map((c: unknown) => ({ ...r, [p.name]: String(c) })),
      );
    return rows.slice(0, total);
  }
  const r = prng(Number(spec.searchAlgorithm?.random?.seed ?? fallbackSeed));
  return Array.from({ length: total }, () =>
    Object.fromEntries(
      params.map((p) => {
        const s = p.searchSpace;
        if (s.categorical)
          return [p.name, String(s.categorical.choices[Math.floor(r() * s.categorical.choices.length)])];
        const range = s.uniform ?? s.logUniform;
        const min = Number(range.min),
          max = Number(range.max),
          int = range.type === 'Int';
        const v = s.uniform ? min + r() * (max - min) : Math.exp(Math.log(min) + r() * (Math.log(max) - Math.log(min)));
        return [p.name, fmt(v, int)];
      }),
    ),
  );
}

/** The template with every {{.name}} replaced; values land inside JSON strings, escaped. */
export function renderTemplate(template: any, values: Record<string, string>): any {
  const text = JSON.stringify(template).replace(/\{\{\s*\.(\w+)\s*\}\}/g, (m, name) =>
    name in values ? JSON.stringify(values[name]).slice(1, -1) : m,
  );
  return JSON.parse(text);
}

/** The objective value a finished trial reported, if any. */
export function objectiveOf(trial: KObject, metric: string): number | undefined {
  const m = (trial.status?.trainerStatus?.metrics ?? []).find((x: any) => x.name === metric);
  const v = m ? Number(m.value) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

export class OptimizationController {
  private queue = new WorkQueue((ns, name) => this.reconcile(ns, name), 'optimization controller');
  private unsubscribe?: () => void;
  private record: Recorder;

  constructor(
    private store: Store,
    private clock: Clock,
  ) {
    this.record = eventRecorder(store, clock);
  }

  start() {
    this.unsubscribe = this.store.subscribe((ev) => {
      if (ev.typeKey === 'trainer.kubeflow.org/optimizationjobs' && ev.type !== 'DELETED')
        this.enqueue(ev.object.metadata.namespace, ev.object.metadata.name);
      if (ev.typeKey === 'trainer.kubeflow.org/trainjobs')
        this.enqueue(ev.object.metadata.namespace, ev.object.metadata.labels?.[TRIAL_OF_LABEL]);
    });
    for (const ns of this.store.list(typeNamed('namespaces')))
      for (const o of this.store.list(T.ojs, ns.metadata.name)) this.enqueue(o.metadata.namespace, o.metadata.name);
  }

  stop() {
    this.unsubscribe?.();
  }

  private enqueue(ns: string | undefined, name: string | undefined) {
    this.queue.enqueue(ns, name);
  }

  trialsOf(oj: KObject): KObject[] {
    return this.store
      .withLabel(T.trainjobs, oj.metadata.namespace, TRIAL_OF_LABEL, oj.metadata.name)
      .filter((j) => (j.metadata.ownerReferences ?? []).some((r: any) => r.uid === oj.metadata.uid));
  }

  reconcile(ns: string, name: string) {
    const oj = this.store.get(T.ojs, ns, name);
    if (!oj || done(oj)) return;
    const spec = oj.spec;
    const plan = sampleTrials(spec, parseInt(oj.metadata.uid.replace(/-/g, '').slice(0, 8), 16));
    const trials = this.trialsOf(oj);
    const running = trials.filter((t) => !done(t)).length;
    const created = new Set(trials.map((t) => Number(t.metadata.labels?.[TRIAL_INDEX_LABEL])));
    let next = 0;
    for (let started = running; started < (spec.parallelTrials ?? 1); started++) {
      while (created.has(next)) next++;
      if (next >= plan.length) break;
      this.createTrial(oj, next, plan[next]);
      created.add(next);
    }
    this.writeStatus(oj, plan.length);
  }

  private createTrial(oj: KObject, index: number, values: Record<string, string>) {
    const tpl = renderTemplate(oj.spec.trainJobTemplate, values);
    const trial: KObject = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: {
        name: `${oj.metadata.name}-${index}`,
        namespace: oj.metadata.namespace,
        labels: {
          ...(tpl.metadata?.labels ?? {}),
          [TRIAL_OF_LABEL]: oj.metadata.name,
          [TRIAL_INDEX_LABEL]: String(index),
        },
        annotations: { ...(tpl.metadata?.annotations ?? {}), [TRIAL_PARAMETERS_ANNOTATION]: JSON.stringify(values) },
        ownerReferences: [ownerRef(oj)],
      },
      spec: { managedBy: TRAINER_CONTROLLER, ...tpl.spec },
    };
    this.store.create(T.trainjobs, trial);
    this.record(
      oj,
      'Normal',
      'TrialCreated',
      `Created trial TrainJob ${trial.metadata.name} with ${Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
      'optimizationjob-controller',
    );
  }

  private writeStatus(oj: KObject, planned: number) {
    const cur = this.store.get(T.ojs, oj.metadata.namespace, oj.metadata.name);
    if (!cur) return;
    const trials = this.trialsOf(cur);
    const objective = cur.spec.objectives[0];
    const sign = objective.direction === 'Maximize' ? -1 : 1;
    const scored = trials
      .filter((t) => condTrue(t, 'Complete'))
      .map((t) => ({ t, v: objectiveOf(t, objective.metric) }))
      .filter((x) => x.v !== undefined);
    const best = scored.sort((a, b) => sign * (a.v! - b.v!) || a.t.metadata.name.localeCompare(b.t.metadata.name))[0];
    const finished = trials.filter(done).length;
    const succeeded = trials.filter((t) => condTrue(t, 'Complete')).length;
    const now = isoSeconds(this.clock.now());
    const conditions: any[] = [];
    const all = finished >= planned;
    if (!all)
      conditions.push({
        type: 'Running',
        status: 'True',
        reason: 'TrialsRunning',
        message: `${finished} of ${planned} trials finished`,
        lastTransitionTime: now,
      });
    else if (succeeded)
      conditions.push({
        type: 'Complete',
        status: 'True',
        reason: 'AllTrialsFinished',
        message: `${planned} trials finished, ${succeeded} succeeded; best: ${best?.t.metadata.name ?? 'none reported the objective'}`,
        lastTransitionTime: now,
      });
    else
      conditions.push({
        type: 'Failed',
        status: 'True',
        reason: 'AllTrialsFailed',
        message: `all ${planned} trials failed`,
        lastTransitionTime: now,
      });
    const next = clone(cur);
    const keep = (cur.status?.conditions ?? []).filter(
      (c: any) => !conditions.some((n) => n.type === c.type) && c.type !== 'Running',
    );
    const same = (a: any, b: any) =>
      JSON.stringify({ ...a, lastTransitionTime: 0 }) === JSON.stringify({ ...b, lastTransitionTime: 0 });
    const merged = [
      ...keep,
      ...conditions.map((c) => {
        const old = (cur.status?.conditions ?? []).find((o: any) => same(o, c));
        return old ?? c;
      }),
    ];
    const result = best
      ? {
          parameters: Object.entries<string>(
            JSON.parse(best.t.metadata.annotations?.[TRIAL_PARAMETERS_ANNOTATION] ?? '{}'),
          ).map(([name, value]) => ({ name, value })),
          trainJobName: best.t.metadata.name,
        }
      : undefined;
    next.status = { conditions: merged, ...(result ? { result } : {}) };
    if (JSON.stringify(next.status) === JSON.stringify(cur.status ?? {})) return;
    this.store.update(T.ojs, next);
    if (all && !done(cur))
      this.record(
        cur,
        succeeded ? 'Normal' : 'Warning',
        conditions[0].reason,
        conditions[0].message,
        'optimizationjob-controller',
      );
  }
}
