// The Trainer admission webhooks (defaulter + validator) for TrainJobs, as far as a client can
// observe them: runtime existence, initializer steps, reserved env names, runtimePatches rules,
// the torchtune constraints, and the deprecation warning.
import { webhookDenied } from './errors.ts';
import { typeNamed } from './resources.ts';
import { isoSeconds, type KObject, type Store } from './store.ts';

export const VALIDATOR = 'validator.trainjob.trainer.kubeflow.org';
const TRAINER_GROUP = 'trainer.kubeflow.org';
const RESERVED_TORCH_ENV = ['PET_NNODES', 'PET_NPROC_PER_NODE', 'PET_NODE_RANK', 'PET_MASTER_ADDR', 'PET_MASTER_PORT'];
const PROTECTED_CONTAINERS = ['node', 'dataset-initializer', 'model-initializer'];

/** The runtime a TrainJob points at, or undefined. */
export function resolveRuntime(store: Store, job: KObject): KObject | undefined {
  const ref = job.spec?.runtimeRef ?? {};
  if (ref.kind === 'TrainingRuntime') return store.get(typeNamed('trainingruntimes'), job.metadata.namespace, ref.name);
  return store.get(typeNamed('clustertrainingruntimes'), undefined, ref.name);
}

export const ancestorStep = (rj: any) =>
  rj?.template?.metadata?.labels?.['trainer.kubeflow.org/trainjob-ancestor-step'];
export const podSpecOf = (rj: any) => rj?.template?.spec?.template?.spec ?? {};

/** Mutating webhook: stamp runtimePatches[].time for new or changed entries. */
export function defaultTrainJob(job: KObject, old: KObject | undefined, now: Date) {
  for (const p of job.spec?.runtimePatches ?? []) {
    const prev = (old?.spec?.runtimePatches ?? []).find((o: any) => o.manager === p.manager);
    if (!p.time || (prev && JSON.stringify({ ...prev, time: undefined }) !== JSON.stringify({ ...p, time: undefined })))
      p.time = isoSeconds(now);
  }
}

/** Validating webhook. Throws a 403 Status; returns warnings to send as `Warning` headers. */
export function validateTrainJob(store: Store, job: KObject, old: KObject | undefined): string[] {
  const warnings: string[] = [];
  const errs: string[] = [];
  const spec = job.spec ?? {};
  const ref = spec.runtimeRef ?? {};
  if (ref.apiGroup !== TRAINER_GROUP || !['ClusterTrainingRuntime', 'TrainingRuntime'].includes(ref.kind)) {
    throw webhookDenied(VALIDATOR, `unsupported runtime: ${ref.kind}.${ref.apiGroup}`);
  }
  const runtime = resolveRuntime(store, job);
  if (!runtime) {
    const cluster = ref.kind === 'ClusterTrainingRuntime';
    throw webhookDenied(
      VALIDATOR,
      `spec.runtimeRef: Invalid value: {"name":"${ref.name}","apiGroup":"${ref.apiGroup}","kind":"${ref.kind}"}: ${cluster ? 'clustertrainingruntimes' : 'trainingruntimes'}.trainer.kubeflow.org "${ref.name}" not found: specified ${cluster ? 'clusterTrainingRuntime' : 'trainingRuntime'} must be created before the TrainJob is created`,
    );
  }
  if (runtime.metadata.labels?.['trainer.kubeflow.org/support'] === 'deprecated') {
    warnings.push(`Referenced runtime "${ref.name}" is deprecated and will be removed in a future release.`);
  }
  const rjobs: any[] = runtime.spec?.template?.spec?.replicatedJobs ?? [];
  const policy = runtime.spec?.mlPolicy ?? {};

  for (const which of ['dataset', 'model'] as const) {
    if (!spec.initializer?.[which]) continue;
    const step = `${which}-initializer`;
    const rj = rjobs.find((r) => ancestorStep(r) === step);
    const container = rj && (podSpecOf(rj).containers ?? []).find((c: any) => c.name === step);
    if (!rj || !container)
      errs.push(
        `spec.initializer.${which}: Invalid value: "object": must have ${step} job with a ${step} container when trainJob is configured with the ${which} initializer`,
      );
  }

  if (policy.torch) {
    const bad = (spec.trainer?.env ?? [])
      .filter((e: any) => RESERVED_TORCH_ENV.includes(e.name))
      .map((e: any) => e.name);
    if (bad.length)
      errs.push(
        `spec.trainer.env: Invalid value: ${JSON.stringify(bad)}: must not have reserved envs, invalid envs configured: ${JSON.stringify(bad)}`,
      );
  }
  if (policy.mpi) {
    const bad = (spec.trainer?.env ?? []).filter((e: any) => /^OMPI_MCA_/.test(e.name)).map((e: any) => e.name);
    if (bad.length) errs.push(`spec.trainer.env: Invalid value: ${JSON.stringify(bad)}: must not have reserved envs`);
  }

  (spec.runtimePatches ?? []).forEach((p: any, i: number) => {
    if (!/^[a-z0-9.-]+\.[a-z]+\/[\w.-]+$/.test(p.manager ?? ''))
      errs.push(
        `spec.runtimePatches[${i}].manager: Invalid value: "${p.manager}": must be a domain-prefixed path such as example.com/my-manager`,
      );
    for (const [j, rp] of (p.trainingRuntimeSpec?.template?.spec?.replicatedJobs ?? []).entries()) {
      const target = rjobs.find((r) => r.name === rp.name);
      const field = `spec.runtimePatches[${i}].trainingRuntimeSpec.template.spec.replicatedJobs[${j}]`;
      if (!target) {
        errs.push(`${field}.name: Invalid value: "${rp.name}": must exist in the runtime's replicated jobs`);
        continue;
      }
      const names = new Set(
        [...(podSpecOf(target).containers ?? []), ...(podSpecOf(target).initContainers ?? [])].map((c: any) => c.name),
      );
      const cs = [
        ...(rp.template?.spec?.template?.spec?.containers ?? []),
        ...(rp.template?.spec?.template?.spec?.initContainers ?? []),
      ];
      for (const c of cs) {
        if (!names.has(c.name))
          errs.push(
            `${field}: Invalid value: "${c.name}": container must exist in the runtime's replicated job "${rp.name}"`,
          );
        if (c.env && PROTECTED_CONTAINERS.includes(c.name))
          errs.push(
            `${field}: Invalid value: "${c.name}": env must not be set on container "${c.name}"; use spec.trainer.env or spec.initializer.*.env`,
          );
      }
    }
  });
  if (
    old &&
    JSON.stringify(stripTimes(old.spec?.runtimePatches)) !== JSON.stringify(stripTimes(spec.runtimePatches)) &&
    !old.spec?.suspend &&
    !spec.suspend
  ) {
    errs.push('spec.runtimePatches: Forbidden: runtimePatches can only be changed while the TrainJob is suspended');
  }

  if (runtime.metadata.labels?.['trainer.kubeflow.org/framework'] === 'torchtune')
    errs.push(...torchtuneRules(runtime.metadata.name, spec));

  if (errs.length) throw webhookDenied(VALIDATOR, errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  return warnings;
}

const stripTimes = (ps: any[] | undefined) => (ps ?? []).map((p) => ({ ...p, time: undefined }));

function torchtuneRules(runtimeName: string, spec: any): string[] {
  const errs: string[] = [];
  const model = runtimeName.replace(/^torchtune-/, '');
  const args: string[] = spec.trainer?.args ?? [];
  const lora = args.some((a) => a.includes('model.lora_attn_modules'));
  const qlora = args.some((a) => a === 'model.quantize_base=True') && !args.some((a) => a === 'model.use_dora=True');
  const nodes = spec.trainer?.numNodes;
  if (nodes !== undefined && nodes > 1 && !model.startsWith('llama3.3'))
    errs.push(`spec.trainer.numNodes: Invalid value: ${nodes}: must be 1 for the ${model} model`);
  if (nodes !== undefined && nodes > 1 && lora)
    errs.push(`spec.trainer.numNodes: Invalid value: ${nodes}: LoRA fine-tuning supports a single node only`);
  if (qlora && model.startsWith('qwen'))
    errs.push(
      'spec.trainer.args: Invalid value: "model.quantize_base=True": QLoRA is not supported for the qwen2.5 model',
    );
  const reserved = ['output_dir=', 'tokenizer.path=', 'tokenizer.merges_file=', 'checkpointer.checkpoint_dir='];
  for (const a of args)
    if (reserved.some((r) => a.startsWith(r)))
      errs.push(`spec.trainer.args: Invalid value: "${a}": must not set ${a.split('=')[0]}, the runtime sets it`);
  return errs;
}

export const OPTIMIZATION_VALIDATOR = 'validator.optimizationjob.trainer.kubeflow.org';

/** Validating webhook for OptimizationJobs: every declared parameter appears in the TrainJob
 * template as a {{.name}} placeholder, and names are unique. */
export function validateOptimizationJob(job: KObject) {
  const text = JSON.stringify(job.spec?.trainJobTemplate ?? {});
  const names: string[] = (job.spec?.parameters ?? []).map((p: any) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw webhookDenied(OPTIMIZATION_VALIDATOR, `spec.parameters: Duplicate value: "${dup}"`);
  const missing = names.filter((n) => !new RegExp(`\\{\\{\\s*\\.${n}\\s*\\}\\}`).test(text));
  if (missing.length)
    throw webhookDenied(
      OPTIMIZATION_VALIDATOR,
      `spec.trainJobTemplate: Invalid value: parameters ${missing.map((n) => `"${n}"`).join(', ')} do not appear in the template as {{.${missing[0]}}} placeholders`,
    );
}
