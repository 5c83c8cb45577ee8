// The TrainJob of fine_tune (and of optimize's fine_tune trials): torchtune BuiltinTrainer. Args
// in the SDK's order; model and dataset initializers; the HF token or S3 keys go into a Secret
// referenced by secretRef, never into env values. A registered model (model-registry://...) is
// resolved first (registered-model.ts) and its artifact takes the model's place.
import type { FineTuneInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import {
  baseJob,
  baseNameOf,
  credentialsSecret,
  frameworkOf,
  resourcesPerNode,
  schedulingPatch,
  SDK_MANAGER,
  type Built,
} from './submit.ts';
import {
  BASE_MODEL_ANNOTATION,
  isRegistryRef,
  resolveRegistered,
  SOURCE_MODEL_ANNOTATION,
  weightsOf,
  type RegisteredSource,
  type RegisteredWeights,
} from './registered-model.ts';
import { allRuntimes } from './lookup.ts';
import { fitOf } from './recipes.ts';
import { lookupModel, estimate, isGated } from './models.ts';

export function torchtuneArgs(i: FineTuneInput): string[] {
  const a: string[] = [];
  if (i.dtype) a.push(`dtype=${i.dtype}`);
  a.push(`batch_size=${i.batch_size}`, `epochs=${i.epochs}`);
  if (i.loss) a.push(`loss=torchtune.modules.loss.${i.loss}`);
  if (i.dataset.startsWith('hf://')) {
    const path = i.dataset
      .replace(/^hf:\/\//, '')
      .split('/')
      .slice(2)
      .join('/');
    a.push(
      path.includes('.')
        ? `dataset.data_files=/workspace/dataset/${path}`
        : `dataset.data_dir=/workspace/dataset/${path || '.'}`,
    );
  }
  const py = (v: unknown) => (v === true ? 'True' : v === false ? 'False' : String(v));
  for (const [k, v] of [
    ['apply_lora_to_mlp', i.apply_lora_to_mlp],
    ['apply_lora_to_output', i.apply_lora_to_output],
    ['lora_rank', i.lora_rank],
    ['lora_alpha', i.lora_alpha],
    ['lora_dropout', i.lora_dropout],
    ['quantize_base', i.quantize_base],
    ['use_dora', i.use_dora],
  ] as const) {
    if (v !== undefined) a.push(`model.${k}=${py(v)}`);
  }
  a.push(`model.lora_attn_modules=[${(i.lora_attn_modules ?? ['q_proj', 'v_proj', 'output_proj']).join(',')}]`);
  if (
    i.dataset_source ||
    i.dataset_split ||
    i.dataset_train_on_input !== undefined ||
    i.dataset_system_prompt ||
    i.dataset_column_map
  ) {
    a.push('dataset=torchtune.datasets.instruct_dataset');
    if (i.dataset_source) a.push(`dataset.source=${i.dataset_source}`);
    if (i.dataset_split) a.push(`dataset.split=${i.dataset_split}`);
    if (i.dataset_train_on_input !== undefined) a.push(`dataset.train_on_input=${py(i.dataset_train_on_input)}`);
    if (i.dataset_system_prompt) a.push(`dataset.new_system_prompt=${i.dataset_system_prompt}`);
    if (i.dataset_column_map)
      a.push(
        `dataset.column_map={${Object.entries(i.dataset_column_map)
          .map(([k, v]) => `'${k}': '${v}'`)
          .join(', ')}}`,
      );
  }
  return a;
}

/** The torchtune runtime whose recipe fits the model; none fitting is said, never guessed. */
async function pickRuntime(ctx: ToolContext, model: string): Promise<{ name: string; note: string }> {
  const tune = (await allRuntimes(ctx)).usable
    .filter((r) => frameworkOf(r) === 'torchtune')
    .map((r) => r.metadata.name as string)
    .sort();
  if (!tune.length)
    throw new ToolError(
      'VALIDATION_ERROR',
      'No torchtune runtime is installed, so fine_tune cannot run here',
      undefined,
      'Use run_custom_training() with a training script instead.',
    );
  const fits = tune.map((n) => fitOf(model, n));
  const best = fits.find((f) => f.fit === 'fits');
  if (best) return { name: best.runtime, note: `runtime not given: chose ${best.runtime}; ${best.reason}` };
  throw new ToolError(
    'VALIDATION_ERROR',
    `No installed torchtune runtime has a recipe for ${model}`,
    { runtimes: fits.map((f) => ({ runtime: f.runtime, fit: f.fit, reason: f.reason })) },
    'Use run_custom_training() with your own script on a torch runtime, pass runtime= to choose one anyway, or ask a platform admin for a runtime with a recipe for this model (create_runtime).',
  );
}

/**
 * Where the recipe reads its checkpoint and tokenizer (the runtime sets checkpointer.checkpoint_dir
 * and tokenizer.path there, and a job may not override them): a registered model kept on a volume
 * is mounted read-only at this path in the trainer, over the model initializer's download.
 */
const MODEL_DIR = '/workspace/model';
/** Weight files the model initializer then skips: the trainer reads the registered ones. */
const WEIGHT_PATTERNS = ['*.safetensors', '*.bin', '*.pt', '*.pth', '*.msgpack', '*.h5', '*.gguf'];

/** Mounts a volume into the `node` container only (the initializers do not need it). */
function mountOnNode(job: Record<string, any>, volume: Record<string, unknown>, mount: Record<string, unknown>) {
  const patches: any[] = (job.spec.runtimePatches ??= [
    { manager: SDK_MANAGER, trainingRuntimeSpec: { template: { spec: { replicatedJobs: [] } } } },
  ]);
  const jobs: any[] = (patches[0].trainingRuntimeSpec.template.spec.replicatedJobs ??= []);
  let node = jobs.find((j) => j.name === 'node');
  if (!node) jobs.unshift((node = { name: 'node', template: { spec: { template: { spec: {} } } } }));
  const pod = node.template.spec.template.spec;
  pod.volumes = [...(pod.volumes ?? []), volume];
  const containers: any[] = (pod.containers ??= []);
  let c = containers.find((x) => x.name === 'node');
  if (!c) containers.push((c = { name: 'node' }));
  c.volumeMounts = [...(c.volumeMounts ?? []), mount];
}

/** A fine-tune's TrainJob, and the registered version it starts from when `model` named one. */
export type FineTuneBuilt = Built & { registered?: RegisteredSource & { read_from: string } };

/** The TrainJob (and credentials Secret) a fine_tune call describes, not yet submitted. */
export async function buildFineTune(asked: FineTuneInput, ctx: ToolContext): Promise<FineTuneBuilt> {
  const warnings: string[] = [];
  // A registered model: resolved (nothing changed if it is unknown), its artifact in the model's place.
  const registered = isRegistryRef(asked.model) ? await resolveRegistered(asked.model, ctx) : undefined;
  const weights: RegisteredWeights | undefined = registered ? await weightsOf(registered, ctx) : undefined;
  const input: FineTuneInput = weights ? { ...asked, model: weights.storageUri } : asked;
  /** The model the recipe, the estimate and the licence check go by: the base of a registered one. */
  const identity = weights?.identity ?? input.model;
  let runtimeName = input.runtime;
  if (!runtimeName) {
    const picked = await pickRuntime(ctx, identity);
    runtimeName = picked.name;
    warnings.push(picked.note);
  }
  const slug = registered ? `${registered.model}-${registered.version}` : baseNameOf(input.model);
  const { job, runtime } = await baseJob(asked, ctx, runtimeName, `${slug}-${input.quantize_base ? 'qlora' : 'lora'}`);
  if (frameworkOf(runtime) !== 'torchtune') {
    throw new ToolError(
      'VALIDATION_ERROR',
      `Runtime '${runtimeName}' is a ${frameworkOf(runtime) ?? 'unlabelled'} runtime; fine_tune needs a torchtune runtime`,
      { runtime: runtimeName },
      'Pick a torchtune-* runtime from list_runtimes(), or use run_custom_training().',
    );
  }
  const s3 = input.model.startsWith('s3://') || input.dataset.startsWith('s3://');
  const secret = credentialsSecret(
    job.metadata.name,
    s3
      ? { ACCESS_KEY_ID: input.s3_access_key_id, SECRET_ACCESS_KEY: input.s3_secret_access_key }
      : { ACCESS_TOKEN: input.hf_token },
  );
  const envOf = (extra: Array<[string, string | undefined]>) =>
    extra.filter(([, v]) => v).map(([name, value]) => ({ name, value: value! }));
  const s3env: Array<[string, string | undefined]> = [
    ['ENDPOINT', input.s3_endpoint],
    ['REGION', input.s3_region],
    ['ROLE_ARN', input.s3_role_arn],
  ];
  job.spec.trainer = {
    command: ['tune', 'run'],
    args: torchtuneArgs(input),
    numNodes: input.num_nodes,
    // One GPU per node unless resources_per_node says otherwise (torchtune needs a GPU).
    resourcesPerNode: resourcesPerNode(input.resources_per_node, 1),
    env: [{ name: 'HF_HOME', value: '/workspace/.hf' }],
  };
  job.spec.initializer = {
    dataset: {
      storageUri: input.dataset,
      env: envOf([
        ...(input.dataset.startsWith('s3://') ? s3env : []),
        ['IGNORE_PATTERNS', input.dataset_ignore_patterns?.join(',')],
      ]),
      ...(secret ? { secretRef: { name: secret.metadata.name } } : {}),
    },
    model: {
      storageUri: input.model,
      env: envOf([
        ...(input.model.startsWith('s3://') ? s3env : []),
        ['IGNORE_PATTERNS', (input.model_ignore_patterns ?? ['*.msgpack', '*.h5', '*.bin', '*.pt', '*.pth']).join(',')],
      ]),
      ...(secret ? { secretRef: { name: secret.metadata.name } } : {}),
    },
  };
  const patches = schedulingPatch(
    input,
    ['node', 'dataset-initializer', 'model-initializer'].slice(0, input.volumes || input.volume_mounts ? 3 : 1),
  );
  if (patches) job.spec.runtimePatches = patches;
  if (registered && weights) {
    job.metadata.annotations = {
      ...job.metadata.annotations,
      [SOURCE_MODEL_ANNOTATION]: registered.reference,
      [BASE_MODEL_ANNOTATION]: identity,
    };
    if (weights.claim) {
      mountOnNode(
        job,
        { name: 'registered-model', persistentVolumeClaim: { claimName: weights.claim.name, readOnly: true } },
        {
          name: 'registered-model',
          mountPath: MODEL_DIR,
          readOnly: true,
          ...(weights.claim.path ? { subPath: weights.claim.path } : {}),
        },
      );
      // The runtime still runs its model initializer: it fetches the base model without its weights.
      const model = job.spec.initializer.model;
      model.env = [
        ...model.env.filter((e: any) => e.name !== 'IGNORE_PATTERNS'),
        { name: 'IGNORE_PATTERNS', value: WEIGHT_PATTERNS.join(',') },
      ];
      warnings.push(
        `The trainer reads ${registered.reference} from volume claim '${weights.claim.name}'${weights.claim.path ? ` (${weights.claim.path})` : ''}, mounted read-only at ${MODEL_DIR}: that directory must hold the checkpoint and the tokenizer the recipe reads there; a ReadWriteOnce claim must not be in use on another node.`,
      );
    }
  }
  if (!input.hf_token && input.model.startsWith('hf://') && isGated(input.model))
    warnings.push(
      `${input.model.replace(/^hf:\/\//, '')} is gated on Hugging Face: pass hf_token (an account that accepted its licence) or the model download will fail with 401.`,
    );
  const fit = input.runtime ? fitOf(identity, runtimeName) : undefined;
  if (fit && fit.fit !== 'fits' && fit.fit !== 'unsure')
    warnings.push(
      `Runtime '${runtimeName}' may not fit ${identity}: ${fit.reason}, so the recipe's model settings may not match it.`,
    );
  const known = lookupModel(identity.replace(/^hf:\/\//, ''));
  const est =
    known &&
    estimate(known, {
      method: input.quantize_base ? 'qlora' : 'lora',
      batch_size: input.batch_size!,
      sequence_length: 2048,
      quantization: input.dtype === 'fp32' ? 'fp32' : 'bf16',
      gradient_checkpointing: true,
      num_workers: input.num_nodes!,
    });
  return {
    job,
    secret,
    runtime,
    warnings,
    gpusNeededPerNode: est ? est.gpu_per_worker : undefined,
    ...(registered && weights
      ? {
          registered: {
            ...registered,
            read_from: weights.claim
              ? `volume claim ${weights.claim.name}${weights.claim.path ? `/${weights.claim.path}` : ''}, mounted at ${MODEL_DIR}`
              : weights.storageUri,
          },
        }
      : {}),
  };
}
