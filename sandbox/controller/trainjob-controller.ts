// The simulated Trainer + JobSet + Job controllers. A TrainJob becomes a JobSet, Jobs created in
// dependsOn order (initializers before the trainer, MPI launcher after the workers are Ready),
// pods run on the kubelet, and the statuses roll back up: Job -> JobSet -> TrainJob conditions,
// jobsStatus and trainerStatus. Handles suspend/resume, activeDeadlineSeconds and failures.
import { createHash } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { typeNamed } from '../resources.ts';
import { clone, isoSeconds, type KObject, type Store } from '../store.ts';
import { ancestorStep, resolveRuntime } from '../admission.ts';
import type { Clock } from '../clock.ts';
import { eventRecorder, type Recorder } from './events.ts';
import { Kubelet, type PodPlan } from './kubelet.ts';
import { TRAINER_CONTROLLER, buildJob, buildJobSet, buildPod, ownerRef } from './build.ts';
import type { LogContext, Outcome } from './log-lines.ts';
import { trialLoss, trialMetrics } from './objective.ts';
import { TORCH_RENDEZVOUS_TIMEOUT_SECONDS, needsHubToken } from '../facts.ts';
import { WorkQueue } from './work-queue.ts';
import { TRIAL_PARAMETERS_ANNOTATION } from './optimization-controller.ts';

export interface Durations {
  schedule: number;
  initializer: number;
  trainer: number;
  launcher: number;
  retry: number;
  rendezvous: number;
}
export const DEFAULT_DURATIONS: Durations = {
  schedule: 2000,
  initializer: 6000,
  trainer: 24000,
  launcher: 18000,
  retry: 5000,
  rendezvous: TORCH_RENDEZVOUS_TIMEOUT_SECONDS * 1000,
};

/** Annotation a user (or test) sets on a TrainJob to choose how the sandbox ends it. */
export const OUTCOME_ANNOTATION = 'sandbox.kubeflow-mcp.dev/outcome';

const T = {
  trainjobs: typeNamed('trainjobs'),
  jobsets: typeNamed('jobsets'),
  jobs: typeNamed('jobs'),
  pods: typeNamed('pods'),
  services: typeNamed('services'),
  configmaps: typeNamed('configmaps'),
  secrets: typeNamed('secrets'),
  pvcs: typeNamed('persistentvolumeclaims'),
};

const condTrue = (o: KObject | undefined, type: string) =>
  (o?.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');
const finished = (o: KObject) => condTrue(o, 'Complete') || condTrue(o, 'Failed');

function outcomeOf(job: KObject): Outcome {
  const a = job.metadata.annotations?.[OUTCOME_ANNOTATION];
  const env = (job.spec.trainer?.env ?? []).find((e: any) => e.name === 'SANDBOX_OUTCOME')?.value;
  const v = a ?? env ?? (/fail/.test(job.spec.trainer?.image ?? '') ? 'fail' : 'succeed');
  return v === 'fail' || v === 'oom' ? v : 'succeed';
}

export class TrainerController {
  readonly kubelet: Kubelet;
  private record: Recorder;
  private queue = new WorkQueue((ns, name) => this.reconcile(ns, name), 'controller');
  private deadlines = new Map<string, () => void>();
  private unsubscribe?: () => void;
  /** How many reconciles ran (a test guard against reconcile loops). */
  reconciles = 0;

  constructor(
    private store: Store,
    private clock: Clock,
    private durations: Durations = DEFAULT_DURATIONS,
  ) {
    this.record = eventRecorder(store, clock);
    this.kubelet = new Kubelet(store, clock, this.record, (pod) =>
      this.enqueue(pod.metadata.namespace, pod.metadata.labels?.['jobset.sigs.k8s.io/jobset-name']),
    );
  }

  start() {
    this.unsubscribe = this.store.subscribe((ev) => {
      if (ev.typeKey === 'trainer.kubeflow.org/trainjobs') {
        if (ev.type === 'DELETED') {
          this.deadlines.get(ev.object.metadata.uid)?.();
          this.deadlines.delete(ev.object.metadata.uid);
        } else this.enqueue(ev.object.metadata.namespace, ev.object.metadata.name);
      }
      if (ev.typeKey === '/pods' && ev.type === 'DELETED') {
        this.kubelet.forget(ev.object.metadata.uid);
        this.kubelet.rescheduleWaiting();
      }
    });
    for (const ns of this.store.list(typeNamed('namespaces')))
      for (const j of this.store.list(T.trainjobs, ns.metadata.name))
        this.enqueue(j.metadata.namespace, j.metadata.name);
  }

  stop() {
    this.unsubscribe?.();
    this.kubelet.close();
    for (const c of this.deadlines.values()) c();
  }

  private enqueue(ns: string | undefined, name: string | undefined) {
    this.queue.enqueue(ns, name);
  }

  private writeStatus(job: KObject, mutate: (s: any) => void) {
    const cur = this.store.get(T.trainjobs, job.metadata.namespace, job.metadata.name);
    if (!cur) return undefined;
    // Only the status changes: the spec is shared with the stored object, not copied.
    const next = { ...cur, metadata: { ...cur.metadata }, status: clone(cur.status ?? {}) };
    mutate(next.status);
    return this.store.update(T.trainjobs, next);
  }

  private setCondition(job: KObject, type: string, status: string, reason: string, message: string) {
    return this.writeStatus(job, (s) => {
      s.conditions = (s.conditions ?? []).filter((c: any) => c.type !== type);
      s.conditions.push({
        type,
        status,
        reason,
        message,
        lastTransitionTime: isoSeconds(this.clock.now()),
        observedGeneration: job.metadata.generation,
      });
    });
  }

  reconcile(ns: string, name: string) {
    this.reconciles++;
    const job = this.store.get(T.trainjobs, ns, name);
    if (!job || job.spec.managedBy !== TRAINER_CONTROLLER || finished(job)) return;
    const ref = job.spec.runtimeRef;
    if (ref.apiGroup !== 'trainer.kubeflow.org' || !['ClusterTrainingRuntime', 'TrainingRuntime'].includes(ref.kind)) {
      this.setCondition(
        job,
        'Failed',
        'True',
        'TrainingRuntimeNotSupported',
        `unsupported runtime: ${ref.kind}.${ref.apiGroup}`,
      );
      return;
    }
    let js = this.store.get(T.jobsets, ns, name);
    if (!js) {
      const runtime = resolveRuntime(this.store, job);
      if (!runtime) {
        this.record(
          job,
          'Warning',
          'TrainJobResourcesCreationFailed',
          `TrainJob resources reconciliation failed: ${ref.kind === 'TrainingRuntime' ? 'trainingruntimes' : 'clustertrainingruntimes'}.trainer.kubeflow.org "${ref.name}" not found`,
          'trainjob-controller',
        );
        this.clock.after(this.durations.retry, () => this.enqueue(ns, name));
        return;
      }
      js = this.createJobSet(job, runtime);
      if (job.spec.activeDeadlineSeconds) this.armDeadline(job, Date.parse(job.metadata.creationTimestamp));
    }

    const suspended = condTrue(job, 'Suspended');
    if (job.spec.suspend && !suspended) return this.suspend(job, js);
    if (!job.spec.suspend && suspended) this.resume(job, js);
    if (job.spec.suspend) return;

    this.progress(job, js);
    this.rollUp(job, js);
  }

  private createJobSet(job: KObject, runtime: KObject): KObject {
    const { namespace: ns, name } = job.metadata;
    const owner = [ownerRef(job)];
    this.store.create(T.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-runtime-snapshot`, namespace: ns, ownerReferences: owner },
      data: { runtime: toYaml({ kind: runtime.kind, metadata: { name: runtime.metadata.name }, spec: runtime.spec }) },
    });
    const js = this.store.create(T.jobsets, buildJobSet(job, runtime));
    const jsOwner = [ownerRef(js)];
    this.store.create(T.services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, ownerReferences: jsOwner },
      spec: { clusterIP: 'None', selector: { 'jobset.sigs.k8s.io/jobset-name': name }, publishNotReadyAddresses: true },
    });
    for (const policy of js.spec.volumeClaimPolicies ?? [])
      for (const tpl of policy.templates ?? []) {
        const pvc = `${tpl.metadata.name}-${name}`;
        if (!this.store.get(T.pvcs, ns, pvc))
          this.store.create(T.pvcs, {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: pvc, namespace: ns, labels: { 'jobset.sigs.k8s.io/jobset-name': name } },
            spec: tpl.spec,
            status: { phase: 'Bound' },
          });
      }
    if (runtime.spec.mlPolicy?.mpi) {
      this.store.create(T.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/ssh-auth',
        metadata: { name: `${name}-mpi-ssh-auth`, namespace: ns, ownerReferences: owner },
        data: { 'ssh-privatekey': Buffer.from(createHash('sha256').update(name).digest('hex')).toString('base64') },
      });
      const workers = js.spec.replicatedJobs.find((r: any) => r.name === 'node')?.template.spec.parallelism ?? 1;
      const slots = runtime.spec.mlPolicy.mpi.numProcPerNode ?? 1;
      const hosts = Array.from({ length: workers }, (_, i) => `${name}-node-0-${i}.${name} slots=${slots}`);
      this.store.create(T.configmaps, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${name}-mpi-hostfile`, namespace: ns, ownerReferences: owner },
        data: { hostfile: hosts.join('\n') + '\n' },
      });
    }
    this.writeStatus(job, (s) => {
      s.jobsStatus = js.spec.replicatedJobs.map((r: any) => ({
        name: r.name,
        ready: 0,
        succeeded: 0,
        failed: 0,
        active: 0,
        suspended: job.spec.suspend ? 1 : 0,
      }));
    });
    return js;
  }

  private armDeadline(job: KObject, fromMs: number) {
    this.deadlines.get(job.metadata.uid)?.();
    // The deadline is simulated seconds, so it shrinks with the clock's scale like every duration.
    const cancel = this.clock.at(fromMs + this.clock.scale(job.spec.activeDeadlineSeconds * 1000), () => {
      const cur = this.store.get(T.trainjobs, job.metadata.namespace, job.metadata.name);
      if (!cur || finished(cur) || cur.spec.suspend) return;
      this.setCondition(cur, 'Failed', 'True', 'DeadlineExceeded', 'TrainJob exceeded its active deadline');
      const js = this.store.get(T.jobsets, cur.metadata.namespace, cur.metadata.name);
      if (js) this.store.remove(T.jobsets, js.metadata.namespace, js.metadata.name);
    });
    this.deadlines.set(job.metadata.uid, cancel);
  }

  private jobsOf(js: KObject) {
    return js.spec.replicatedJobs.map((rj: any) => ({
      rj,
      job: this.store.get(T.jobs, js.metadata.namespace, `${js.metadata.name}-${rj.name}-0`),
    }));
  }

  private podsOf(job: KObject) {
    return this.store.withLabel(T.pods, job.metadata.namespace, 'batch.kubernetes.io/job-name', job.metadata.name);
  }

  private suspend(job: KObject, js: KObject) {
    this.deadlines.get(job.metadata.uid)?.();
    const nextJs = clone(js);
    nextJs.spec.suspend = true;
    nextJs.status = {
      ...(nextJs.status ?? {}),
      conditions: [
        {
          type: 'Suspended',
          status: 'True',
          reason: 'SuspendedJobs',
          message: 'jobset is suspended',
          lastTransitionTime: isoSeconds(this.clock.now()),
        },
      ],
    };
    this.store.update(T.jobsets, nextJs);
    for (const { job: j } of this.jobsOf(js))
      if (j) {
        for (const p of this.podsOf(j)) {
          this.kubelet.stop(p);
          this.store.remove(T.pods, p.metadata.namespace, p.metadata.name);
        }
        this.store.remove(T.jobs, j.metadata.namespace, j.metadata.name);
      }
    this.record(js, 'Normal', 'SuspendedJobs', 'jobset is suspended', 'jobset-controller');
    const j2 = this.setCondition(job, 'Suspended', 'True', 'Suspended', 'TrainJob is suspended');
    if (j2)
      this.writeStatus(j2, (s) => {
        s.jobsStatus = js.spec.replicatedJobs.map((r: any) => ({
          name: r.name,
          ready: 0,
          succeeded: 0,
          failed: 0,
          active: 0,
          suspended: 1,
        }));
      });
  }

  private resume(job: KObject, js: KObject) {
    const nextJs = clone(js);
    nextJs.spec.suspend = false;
    nextJs.status = {
      ...(nextJs.status ?? {}),
      conditions: [
        {
          type: 'Suspended',
          status: 'False',
          reason: 'ResumeJobs',
          message: 'jobset is resumed',
          lastTransitionTime: isoSeconds(this.clock.now()),
        },
      ],
    };
    this.store.update(T.jobsets, nextJs);
    this.record(js, 'Normal', 'ResumeJobs', 'jobset is resumed', 'jobset-controller');
    this.setCondition(job, 'Suspended', 'False', 'Resumed', 'TrainJob is resumed');
    if (job.spec.activeDeadlineSeconds) this.armDeadline(job, this.clock.now().getTime());
  }

  /** Create each Job whose dependencies are met. */
  private progress(trainJob: KObject, js: KObject) {
    const entries = this.jobsOf(js);
    for (const { rj, job } of entries) {
      if (job) continue;
      const ready = (rj.dependsOn ?? []).every((d: any) => {
        const dep = entries.find((e: any) => e.rj.name === d.name)?.job;
        if (!dep) return false;
        return d.status === 'Ready'
          ? (dep.status?.ready ?? 0) >= (dep.spec.parallelism ?? 1) || condTrue(dep, 'Complete')
          : condTrue(dep, 'Complete');
      });
      if (!ready) continue;
      const created = this.store.create(T.jobs, buildJob(js, rj));
      const withStart = clone(created);
      withStart.status = { startTime: isoSeconds(this.clock.now()), active: created.spec.parallelism, ready: 0 };
      const live = this.store.update(T.jobs, withStart);
      for (let i = 0; i < (live.spec.parallelism ?? 1); i++) {
        const pod = this.store.create(T.pods, buildPod(live, i, this.clock.now()));
        this.record(live, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'job-controller');
        this.kubelet.admit(pod, this.planFor(trainJob, js, rj, pod, i), this.durations.schedule);
      }
    }
  }

  /** Does the container get a non-empty ACCESS_TOKEN or HF_TOKEN (a value, a Secret key, or a whole Secret as env)? */
  private hasToken(pod: KObject, c: any): boolean {
    const names = ['ACCESS_TOKEN', 'HF_TOKEN'];
    const secret = (name: string) => this.store.get(T.secrets, pod.metadata.namespace, name);
    const inSecret = (s: KObject | undefined, key: string) => !!(s?.data?.[key] || s?.stringData?.[key]);
    for (const e of c.env ?? []) {
      if (!names.includes(e.name)) continue;
      if (e.value) return true;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && inSecret(secret(ref.name), ref.key)) return true;
    }
    return (c.envFrom ?? []).some(
      (f: any) => f.secretRef?.name && names.some((k) => inSecret(secret(f.secretRef.name), k)),
    );
  }

  private planFor(trainJob: KObject, js: KObject, rj: any, pod: KObject, rank: number): PodPlan {
    const step = ancestorStep(rj) ?? (rj.name === 'node' ? 'worker' : rj.name);
    const c = pod.spec.containers[0];
    const env = (n: string) => (c.env ?? []).find((e: any) => e.name === n)?.value;
    const outcome = outcomeOf(trainJob);
    const mpi = js.spec.replicatedJobs.some((r: any) => r.name === 'launcher');
    const world = Number(env('PET_NNODES') ?? rj.template.spec.parallelism ?? 1);
    // A hyperparameter trial trains towards the objective it will report (controller/objective.ts).
    const params = trainJob.metadata.annotations?.[TRIAL_PARAMETERS_ANNOTATION];
    const finalLoss = params ? trialLoss(JSON.parse(params)) : undefined;
    const base = {
      pod: pod.metadata.name,
      rank,
      world,
      command: [...(c.command ?? []), ...(c.args ?? [])],
      ...(finalLoss === undefined ? {} : { finalLoss }),
    };
    let ctx: Omit<LogContext, 'attempt'>;
    let duration: PodPlan['duration'] = this.durations.trainer;
    if (step === 'dataset-initializer' || step === 'model-initializer') {
      const initOutcome = trainJob.metadata.annotations?.[OUTCOME_ANNOTATION] === `fail-${step}` ? 'fail' : 'succeed';
      ctx = { ...base, kind: step, storageUri: env('STORAGE_URI'), outcome: initOutcome };
      duration = this.durations.initializer;
      // A gated Hugging Face model needs a token, as the real initializer finds out with a 401;
      // judged when the container starts, as the token's Secret may come after the job.
      if (step === 'model-initializer' && needsHubToken(String(env('STORAGE_URI') ?? ''))) {
        return { duration, ctx, restarts: 1, outcomeAtStart: () => (this.hasToken(pod, c) ? initOutcome : 'fail') };
      }
    } else if (mpi && rj.name === 'node') {
      ctx = { ...base, kind: 'mpi-worker', outcome: 'succeed' };
      duration = 'until-stopped';
    } else if (mpi) {
      ctx = { ...base, kind: 'mpi-launcher', outcome };
      duration = this.durations.launcher;
    } else {
      const kind = c.command?.[0] === 'tune' ? 'torchtune' : env('PET_NNODES') ? 'torchrun' : 'generic';
      ctx = { ...base, kind, outcome };
      // A multi-node torch trainer runs only when all its nodes meet at rank 0's TCPStore.
      if (kind !== 'generic' && world > 1) {
        const name = js.metadata.name;
        ctx.rendezvous = {
          master: env('PET_MASTER_ADDR') ?? `${name}-node-0-0.${name}`,
          port: Number(env('PET_MASTER_PORT') ?? 29500),
          timeoutSeconds: Math.round(this.durations.rendezvous / 1000),
          procs: procsPerNode(env('PET_NPROC_PER_NODE'), c),
          state: 'waiting',
        };
        return {
          duration,
          ctx,
          restarts: 1,
          rendezvous: {
            group: `${pod.metadata.namespace}/${name}/${rj.name}`,
            world,
            timeout: this.durations.rendezvous,
          },
        };
      }
    }
    return { duration, ctx, restarts: 1 };
  }

  /** Job, JobSet and TrainJob status from the pods, and the terminal transitions. */
  private rollUp(trainJob: KObject, js: KObject) {
    const now = isoSeconds(this.clock.now());
    const entries = this.jobsOf(js);
    let anyFailed = false,
      unblocking = false;
    for (const e of entries) {
      if (!e.job) continue;
      const pods = this.podsOf(e.job);
      const count = (ph: string) => pods.filter((p) => p.status?.phase === ph).length;
      const succeeded = count('Succeeded'),
        failed = count('Failed');
      const active = pods.length - succeeded - failed;
      const ready = pods.filter(
        (p) => (p.status?.containerStatuses ?? []).every((c: any) => c.ready) && p.status?.phase === 'Running',
      ).length;
      const next = {
        ...e.job,
        metadata: { ...e.job.metadata },
        status: { ...clone(e.job.status ?? {}), active, ready, succeeded, failed },
      };
      const want = e.job.spec.completions ?? 1;
      if (failed > 0 && !condTrue(e.job, 'Failed')) {
        next.status.conditions = [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastTransitionTime: now,
          },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastTransitionTime: now,
          },
        ];
        this.record(
          e.job,
          'Warning',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          'job-controller',
        );
      } else if (succeeded >= want && !condTrue(e.job, 'Complete')) {
        next.status.completionTime = now;
        next.status.conditions = [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastTransitionTime: now,
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastTransitionTime: now,
          },
        ];
        this.record(e.job, 'Normal', 'Completed', 'Job completed', 'job-controller');
      }
      const before = e.job;
      e.job = this.store.update(T.jobs, next);
      if (condTrue(e.job, 'Failed')) anyFailed = true;
      // Becoming Complete or fully Ready is what a dependsOn waits for.
      if (
        (condTrue(e.job, 'Complete') && !condTrue(before, 'Complete')) ||
        (e.job.status.ready >= (e.job.spec.parallelism ?? 1) &&
          (before.status?.ready ?? 0) < (e.job.spec.parallelism ?? 1))
      )
        unblocking = true;
    }
    // A Job reaching Ready or Complete may unblock its dependents.
    if (!anyFailed && unblocking && entries.some((e: any) => !e.job)) this.progressLater(trainJob);

    const jobsStatus = entries.map(({ rj, job }: any) => ({
      name: rj.name,
      ready:
        job &&
        !condTrue(job, 'Complete') &&
        !condTrue(job, 'Failed') &&
        (job.status?.ready ?? 0) >= (job.spec.parallelism ?? 1)
          ? 1
          : 0,
      succeeded: job && condTrue(job, 'Complete') ? 1 : 0,
      failed: job && condTrue(job, 'Failed') ? 1 : 0,
      active: job && !condTrue(job, 'Complete') && !condTrue(job, 'Failed') && (job.status?.active ?? 0) > 0 ? 1 : 0,
      suspended: 0,
    }));
    const targets: string[] =
      js.spec.successPolicy?.targetReplicatedJobs ?? js.spec.replicatedJobs.map((r: any) => r.name);
    const complete = !anyFailed && targets.every((n) => jobsStatus.find((s: any) => s.name === n)?.succeeded === 1);
    this.writeStatus(trainJob, (s) => {
      s.jobsStatus = jobsStatus;
    });
    // JobSet names the Job that failed first; the TrainJob copies its condition.
    const firstFailed = entries
      .filter((e: any) => e.job && condTrue(e.job, 'Failed'))
      .sort((a: any, b: any) =>
        String(a.job.status.conditions.find((c: any) => c.type === 'Failed')?.lastTransitionTime).localeCompare(
          String(b.job.status.conditions.find((c: any) => c.type === 'Failed')?.lastTransitionTime),
        ),
      )[0]?.job;
    if (anyFailed)
      this.finish(
        trainJob,
        js,
        'Failed',
        'FailedJobs',
        `jobset failed due to one or more job failures (first failed job: ${firstFailed?.metadata.name})`,
      );
    else if (complete) this.finish(trainJob, js, 'Complete', 'AllJobsCompleted', 'jobset completed successfully');
    else this.reportProgress(trainJob, entries);
  }

  private progressLater(trainJob: KObject) {
    this.enqueue(trainJob.metadata.namespace, trainJob.metadata.name);
  }

  /** trainerStatus while the trainer step runs: progress, time left, and the latest loss. */
  private reportProgress(trainJob: KObject, entries: Array<{ rj: any; job?: KObject }>) {
    const trainer = entries.find((e) => ancestorStep(e.rj) === 'trainer')?.job;
    if (!trainer) return;
    const pod = this.podsOf(trainer).find(
      (p) => p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '0',
    );
    if (!pod || pod.status?.phase !== 'Running') return;
    const total = this.clock.scale(runDuration(this.durations, entries));
    const started = Date.parse(pod.status.containerStatuses?.[0]?.state?.running?.startedAt ?? pod.status.startTime);
    const tick = () => {
      const cur = this.store.get(T.trainjobs, trainJob.metadata.namespace, trainJob.metadata.name);
      const live = this.store.get(T.pods, pod.metadata.namespace, pod.metadata.name);
      if (!cur || finished(cur) || !live || live.status?.phase !== 'Running') return;
      // Nothing trains (and nothing is reported) while the nodes wait for each other.
      if (this.kubelet.inRendezvous(live.metadata.uid)) {
        this.clock.after(runDuration(this.durations, entries) / 5, tick);
        return;
      }
      const frac = Math.min(0.99, Math.max(0, (this.clock.now().getTime() - started) / total));
      const logs = this.kubelet.read(live, live.spec.containers[0].name, false).lines;
      const loss = [...logs]
        .reverse()
        .map((l) => l.text.match(/loss[=:]?\s*([\d.]+)/i)?.[1])
        .find(Boolean);
      this.writeStatus(cur, (s) => {
        s.trainerStatus = {
          progressPercentage: Math.floor(frac * 100),
          estimatedRemainingSeconds: Math.max(0, Math.round(((1 - frac) * total) / this.clock.scale(1000))),
          metrics: loss ? [{ name: 'loss', value: loss }] : [],
          lastUpdatedTime: isoSeconds(this.clock.now()),
        };
      });
      this.clock.after(runDuration(this.durations, entries) / 5, tick);
    };
    if (!trainJob.status?.trainerStatus) tick();
  }

  private finish(trainJob: KObject, js: KObject, type: 'Complete' | 'Failed', reason: string, message: string) {
    const cur = this.store.get(T.trainjobs, trainJob.metadata.namespace, trainJob.metadata.name);
    if (!cur || finished(cur)) return;
    const now = isoSeconds(this.clock.now());
    const nextJs = clone(this.store.get(T.jobsets, js.metadata.namespace, js.metadata.name) ?? js);
    nextJs.status = {
      ...(nextJs.status ?? {}),
      terminalState: type === 'Complete' ? 'Completed' : 'Failed',
      conditions: [
        {
          type: type === 'Complete' ? 'Completed' : 'Failed',
          status: 'True',
          reason,
          message,
          lastTransitionTime: now,
        },
      ],
    };
    this.store.update(T.jobsets, nextJs);
    this.record(js, type === 'Complete' ? 'Normal' : 'Warning', reason, message, 'jobset-controller');
    // Remaining pods end: MPI workers exit with the launcher; on failure the others are deleted.
    for (const { job } of this.jobsOf(js))
      if (job)
        for (const p of this.podsOf(job)) {
          if (['Succeeded', 'Failed'].includes(p.status?.phase)) continue;
          if (type === 'Complete') this.kubelet.finishAttempt(p, 0);
          else {
            this.kubelet.stop(p);
            this.store.remove(T.pods, p.metadata.namespace, p.metadata.name);
            this.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'job-controller');
          }
        }
    this.deadlines.get(cur.metadata.uid)?.();
    this.writeStatus(cur, (s) => {
      s.conditions = [
        ...(s.conditions ?? []).filter((c: any) => c.type !== type),
        { type, status: 'True', reason, message, lastTransitionTime: now },
      ];
      if (type === 'Complete' && s.trainerStatus)
        s.trainerStatus = {
          ...s.trainerStatus,
          progressPercentage: 100,
          estimatedRemainingSeconds: 0,
          lastUpdatedTime: now,
        };
      // A hyperparameter trial reports its objective from the sandbox's known surface.
      const params = cur.metadata.annotations?.[TRIAL_PARAMETERS_ANNOTATION];
      if (type === 'Complete' && params)
        s.trainerStatus = {
          ...(s.trainerStatus ?? {}),
          progressPercentage: 100,
          estimatedRemainingSeconds: 0,
          metrics: trialMetrics(JSON.parse(params)),
          lastUpdatedTime: now,
        };
    });
  }
}

function runDuration(d: Durations, entries: Array<{ rj: any }>) {
  return entries.some((e) => e.rj.name === 'launcher') ? d.launcher : d.trainer;
}

/**
 * The process count torchrun prints for PET_NPROC_PER_NODE: a number as given; `auto` and `gpu`
 * resolve to the container's GPUs (auto falls back to one process per node without them), `cpu`
 * to its CPU request.
 */
function procsPerNode(value: string | undefined, container: any): number {
  if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  const r = { ...(container.resources?.requests ?? {}), ...(container.resources?.limits ?? {}) };
  const gpus = Object.entries(r)
    .filter(([k]) => k.endsWith('/gpu'))
    .reduce((n, [, v]) => n + (Number(v) || 0), 0);
  if (value === 'cpu') return Math.max(1, Math.floor(Number(container.resources?.requests?.cpu ?? 1)) || 1);
  return gpus > 0 ? gpus : 1;
}
