// Builds what the Trainer controller and the JobSet/Job controllers would create from a TrainJob
// and its runtime: the JobSet, one Job per replicated job, and the Indexed Job's pods, with the
// names, labels, env and owner references of a real cluster.
import { createHash, randomBytes } from 'node:crypto';
import { ancestorStep } from '../admission.ts';
import { isoSeconds, type KObject } from '../store.ts';

export const TRAINER_CONTROLLER = 'trainer.kubeflow.org/trainjob-controller';
const clone = <T>(o: T): T => structuredClone(o);

export const ownerRef = (o: KObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  uid: o.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});

function upsertEnv(list: any[] | undefined, add: any[] | undefined) {
  const out = [...(list ?? [])];
  for (const e of add ?? []) {
    const i = out.findIndex((x) => x.name === e.name);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** GPUs (or other accelerators) in a resource map. */
export function acceleratorCount(resources: Record<string, any> | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(resources ?? {})) if (/gpu|tpu|neuron|mig-/.test(k)) n += Number(v) || 0;
  return n;
}

/** What torchtune's recipe selection does with the TrainJob's command (Trainer §5.4). */
function torchtuneCommand(job: KObject, runtimeCmd: string[], numNodes: number, gpus: number): string[] {
  const args: string[] = job.spec.trainer?.args ?? [];
  const lora = args.some((a) => a.includes('model.lora_attn_modules'));
  const qlora = args.includes('model.quantize_base=True') && !args.includes('model.use_dora=True');
  const procs = Number(job.spec.trainer?.numProcPerNode ?? gpus) || 1;
  const distributed = numNodes > 1 || procs > 1 || gpus > 1;
  const cfgIdx = runtimeCmd.indexOf('--config');
  const base = cfgIdx >= 0 ? runtimeCmd[cfgIdx + 1].replace(/_full$/, '') : 'model';
  let recipe: string, suffix: string;
  if (!distributed) {
    recipe = lora ? 'lora_finetune_single_device' : 'full_finetune_single_device';
    suffix = qlora ? '_qlora_single_device' : lora ? '_lora_single_device' : '_full_single_device';
  } else if (lora) {
    recipe = 'lora_finetune_distributed';
    suffix = qlora ? '_qlora' : '_lora';
  } else {
    recipe = 'full_finetune_distributed';
    suffix = numNodes > 1 ? '_full_multinode' : '_full';
  }
  const keep = runtimeCmd.filter((a) =>
    /^(output_dir|tokenizer\.path|tokenizer\.merges_file|checkpointer\.checkpoint_dir)=/.test(a),
  );
  const name = job.metadata.name;
  return [
    'tune',
    'run',
    ...(distributed ? [`--rdzv_endpoint=${name}-node-0-0.${name}:29500`] : []),
    recipe,
    '--config',
    `${base}${suffix}`,
    ...keep,
  ];
}

export interface PlannedJob {
  name: string;
  rjob: string;
  step?: string;
  dependsOn: Array<{ name: string; status: string }>;
  parallelism: number;
  template: any;
}

/** The JobSet for a TrainJob, with TrainJob overrides and runtimePatches applied. */
export function buildJobSet(job: KObject, runtime: KObject): KObject {
  const spec = job.spec;
  const rt = runtime.spec;
  const policy = rt.mlPolicy ?? {};
  const numNodes: number = spec.trainer?.numNodes ?? policy.numNodes ?? 1;
  const name = job.metadata.name;
  const jsMeta = clone(rt.template?.metadata ?? {});
  const rjobs: any[] = clone(rt.template?.spec?.replicatedJobs ?? []);

  for (const rj of rjobs) {
    const step = ancestorStep(rj);
    const podSpec = rj.template.spec.template.spec;
    rj.replicas = 1;
    rj.template.spec.completionMode = 'Indexed';
    rj.template.spec.backoffLimit ??= 1;
    podSpec.restartPolicy ??= 'OnFailure';
    let parallelism = 1;
    if (step === 'dataset-initializer' || step === 'model-initializer') {
      const init = spec.initializer?.[step === 'dataset-initializer' ? 'dataset' : 'model'];
      const c = podSpec.containers.find((x: any) => x.name === step);
      if (init && c) {
        if (init.storageUri) c.env = upsertEnv(c.env, [{ name: 'STORAGE_URI', value: init.storageUri }]);
        c.env = upsertEnv(c.env, init.env);
        if (init.secretRef?.name) c.envFrom = [...(c.envFrom ?? []), { secretRef: { name: init.secretRef.name } }];
      }
    }
    const isMpiNode = policy.mpi && rj.name === 'node';
    if (step === 'trainer' || isMpiNode) {
      parallelism = policy.mpi
        ? rj.name === 'launcher'
          ? 1
          : policy.mpi.runLauncherAsNode
            ? Math.max(numNodes - 1, 1)
            : numNodes
        : numNodes;
      const c = podSpec.containers.find((x: any) => x.name === 'node');
      if (c && step === 'trainer') {
        const t = spec.trainer ?? {};
        if (t.image) c.image = t.image;
        if (t.resourcesPerNode) {
          c.resources = { ...(c.resources ?? {}) };
          for (const k of ['requests', 'limits'] as const)
            if (t.resourcesPerNode[k]) c.resources[k] = { ...(c.resources[k] ?? {}), ...t.resourcesPerNode[k] };
        }
        const gpus = acceleratorCount(c.resources?.limits ?? c.resources?.requests);
        if (t.command) c.command = t.command;
        if (t.args) c.args = t.args;
        if (policy.torch && (c.command ?? [])[0] === 'tune')
          c.command = torchtuneCommand(job, runtimeCommand(runtime), numNodes, gpus);
        c.env = upsertEnv(c.env, t.env);
        if (policy.torch) {
          const procs =
            t.numProcPerNode ??
            (gpus > 0 ? 'auto' : Number(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu) || 'auto');
          const pet = [
            { name: 'PET_NNODES', value: String(numNodes) },
            { name: 'PET_NPROC_PER_NODE', value: String(procs) },
            {
              name: 'PET_NODE_RANK',
              valueFrom: {
                fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
              },
            },
          ];
          if ((c.command ?? [])[0] !== 'tune')
            pet.push(
              { name: 'PET_MASTER_ADDR', value: `${name}-node-0-0.${name}` },
              { name: 'PET_MASTER_PORT', value: '29500' },
            );
          c.env = upsertEnv(c.env, pet);
          c.ports = [{ containerPort: 29500, protocol: 'TCP' }];
        }
      }
    }
    rj.template.spec.parallelism = parallelism;
    rj.template.spec.completions = parallelism;
  }

  for (const p of spec.runtimePatches ?? []) applyRuntimePatch(jsMeta, rjobs, p.trainingRuntimeSpec?.template);

  return {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    metadata: {
      name,
      namespace: job.metadata.namespace,
      labels: jsMeta.labels,
      annotations: jsMeta.annotations,
      ownerReferences: [ownerRef(job)],
    },
    spec: {
      replicatedJobs: rjobs,
      successPolicy: rt.template?.spec?.successPolicy ?? { operator: 'All' },
      network: { enableDNSHostnames: true, publishNotReadyAddresses: true, ...(rt.template?.spec?.network ?? {}) },
      ...(rt.template?.spec?.volumeClaimPolicies ? { volumeClaimPolicies: rt.template.spec.volumeClaimPolicies } : {}),
      suspend: !!spec.suspend,
    },
  };
}

function runtimeCommand(runtime: KObject): string[] {
  const rj = (runtime.spec.template?.spec?.replicatedJobs ?? []).find((r: any) => ancestorStep(r) === 'trainer');
  return (rj?.template?.spec?.template?.spec?.containers ?? []).find((c: any) => c.name === 'node')?.command ?? [];
}

const mergeMeta = (into: any, from: any) => {
  if (!from) return;
  if (from.labels) into.labels = { ...(into.labels ?? {}), ...from.labels };
  if (from.annotations) into.annotations = { ...(into.annotations ?? {}), ...from.annotations };
};

function applyRuntimePatch(jsMeta: any, rjobs: any[], tpl: any) {
  if (!tpl) return;
  mergeMeta(jsMeta, tpl.metadata);
  for (const rp of tpl.spec?.replicatedJobs ?? []) {
    const rj = rjobs.find((r) => r.name === rp.name);
    if (!rj) continue;
    rj.template.metadata ??= {};
    mergeMeta(rj.template.metadata, rp.template?.metadata);
    const podTpl = rj.template.spec.template;
    podTpl.metadata ??= {};
    mergeMeta(podTpl.metadata, rp.template?.spec?.template?.metadata);
    const ps = rp.template?.spec?.template?.spec ?? {};
    for (const k of [
      'serviceAccountName',
      'nodeSelector',
      'affinity',
      'securityContext',
      'terminationGracePeriodSeconds',
    ])
      if (ps[k] !== undefined) podTpl.spec[k] = ps[k];
    for (const k of ['tolerations', 'volumes', 'imagePullSecrets', 'schedulingGates'])
      if (ps[k]) podTpl.spec[k] = [...(podTpl.spec[k] ?? []), ...ps[k]];
    for (const key of ['containers', 'initContainers'] as const) {
      for (const cp of ps[key] ?? []) {
        const c = (podTpl.spec[key] ?? []).find((x: any) => x.name === cp.name);
        if (!c) continue;
        if (cp.env) c.env = upsertEnv(c.env, cp.env);
        if (cp.volumeMounts) c.volumeMounts = [...(c.volumeMounts ?? []), ...cp.volumeMounts];
        if (cp.securityContext) c.securityContext = cp.securityContext;
      }
    }
  }
}

export function buildJob(js: KObject, rj: any): KObject {
  const jobName = `${js.metadata.name}-${rj.name}-0`;
  const labels = {
    ...(js.metadata.labels ?? {}),
    ...(rj.template.metadata?.labels ?? {}),
    ...jobsetLabels(js, rj, jobName),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      namespace: js.metadata.namespace,
      labels,
      annotations: { ...(rj.template.metadata?.annotations ?? {}), ...jobsetLabels(js, rj, jobName) },
      ownerReferences: [ownerRef(js)],
    },
    spec: { ...clone(rj.template.spec), suspend: false },
    status: {},
  };
}

function jobsetLabels(js: KObject, rj: any, jobName: string) {
  return {
    'jobset.sigs.k8s.io/jobset-name': js.metadata.name,
    'jobset.sigs.k8s.io/replicatedjob-name': rj.name,
    'jobset.sigs.k8s.io/replicatedjob-replicas': '1',
    'jobset.sigs.k8s.io/job-index': '0',
    'jobset.sigs.k8s.io/restart-attempt': '0',
    'jobset.sigs.k8s.io/job-key': createHash('sha1').update(`${js.metadata.namespace}/${jobName}`).digest('hex'),
  };
}

const suffix = () => Array.from(randomBytes(5), (b) => 'bcdfghjklmnpqrstvwxz2456789'[b % 27]).join('');

export function buildPod(job: KObject, index: number, now: Date): KObject {
  const tpl = clone(job.spec.template);
  const jobsetName = job.metadata.labels['jobset.sigs.k8s.io/jobset-name'];
  const ctl = {
    'batch.kubernetes.io/controller-uid': job.metadata.uid,
    'controller-uid': job.metadata.uid,
    'batch.kubernetes.io/job-name': job.metadata.name,
    'job-name': job.metadata.name,
  };
  const jsKeys = Object.fromEntries(
    Object.entries(job.metadata.labels).filter(([k]) => k.startsWith('jobset.sigs.k8s.io/')),
  ) as Record<string, string>;
  const labels = {
    ...(tpl.metadata?.labels ?? {}),
    ...jsKeys,
    ...ctl,
    'batch.kubernetes.io/job-completion-index': String(index),
  };
  const annotations = {
    ...(tpl.metadata?.annotations ?? {}),
    ...jsKeys,
    'batch.kubernetes.io/job-completion-index': String(index),
  };
  const spec = tpl.spec;
  spec.hostname = `${job.metadata.name}-${index}`;
  spec.subdomain = jobsetName;
  spec.restartPolicy ??= 'OnFailure';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${job.metadata.name}-${index}-${suffix()}`,
      namespace: job.metadata.namespace,
      labels,
      annotations,
      ownerReferences: [ownerRef(job)],
    },
    spec,
    status: {
      phase: 'Pending',
      qosClass: 'BestEffort',
      startTime: undefined,
      // No container statuses until a node runs the pod: an unschedulable pod shows Pending.
      conditions: [{ type: 'PodScheduled', status: 'False', lastTransitionTime: isoSeconds(now) }],
    },
  };
}
