// optimize: an OptimizationJob whose trials are the TrainJob a training tool would submit, with a
// {{.name}} placeholder wherever that tool has an argument for the parameter. The search space is
// checked as the CRD checks it before anything reaches Kubernetes; the preview is a dry run. A
// registered model (model-registry://...) in base_args is resolved once, for every trial.
import { TOOLS, type OptimizeInput } from '../../generated/index.ts';
import { Preview, ToolError } from '../envelope.ts';
import { CALLER_ANNOTATION, OWNER_LABEL, OWNER_VALUE, type ToolContext } from '../context.ts';
import { baseNameOf, createWithSecret, gpuWarnings, nameFor, shownSecret, type Built } from '../trainer/submit.ts';
import { summarizeRuntime } from '../trainer/views.ts';
import { buildFineTune, type FineTuneBuilt } from '../trainer/fine-tune.ts';
import { isRegistryRef, parseRegistryRef } from '../trainer/registered-model.ts';
import { buildCustomTraining } from '../trainer/custom-training.ts';
import { buildContainerTraining } from '../trainer/container-training.ts';

type Param = OptimizeInput['parameters'][number];
const bad = (message: string, details?: Record<string, unknown>, hint?: string) =>
  new ToolError('VALIDATION_ERROR', `Invalid input: ${message}`, details, hint);
const placeholder = (name: string) => `{{.${name}}}`;

/** fine_tune arguments a trial value can replace, and the torchtune overrides for the rest. */
const FINE_TUNE_ARGS = ['batch_size', 'epochs', 'lora_rank', 'lora_alpha', 'lora_dropout'];
const TORCHTUNE_OVERRIDES: Record<string, string> = {
  learning_rate: 'optimizer.lr',
  lr: 'optimizer.lr',
  weight_decay: 'optimizer.weight_decay',
};
const MAX_GRID = 200;

/** One parameter as the CRD writes it; the CRD's own rules, checked here first. */
function searchSpace(p: Param, i: number) {
  const at = `parameters[${i}] (${p.name})`;
  const range = p.min !== undefined || p.max !== undefined;
  if (p.values && range) throw bad(`${at} has both values and a range; give one`);
  if (p.values) {
    if (new Set(p.values.map(String)).size !== p.values.length) throw bad(`${at} lists a value twice`);
    return { name: p.name, searchSpace: { categorical: { choices: p.values.map(String) } } };
  }
  if (p.min === undefined || p.max === undefined) throw bad(`${at} needs values, or both min and max`);
  if (!(p.min < p.max)) throw bad(`${at}: min (${p.min}) must be below max (${p.max})`);
  if (p.scale === 'log' && !(p.min > 0)) throw bad(`${at}: a log scale needs min > 0 (got ${p.min})`);
  if (p.integer && (!Number.isInteger(p.min) || !Number.isInteger(p.max)))
    throw bad(`${at}: an integer range needs whole min and max`);
  const space = { min: String(p.min), max: String(p.max), type: p.integer ? 'Int' : 'Float' };
  return { name: p.name, searchSpace: p.scale === 'log' ? { logUniform: space } : { uniform: space } };
}

const numeric = (p: Param) =>
  p.values
    ? p.values.every(
        (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))),
      )
    : true;

/** The base tool's arguments with the placeholders in, built into a TrainJob by that tool. */
async function template(input: OptimizeInput, name: string, ctx: ToolContext): Promise<FineTuneBuilt> {
  const base = TOOLS.find((t) => t.name === input.base_tool)!;
  const args: Record<string, any> = structuredClone(input.base_args);
  for (const k of ['confirmed', 'name', 'namespace'])
    if (k in args) throw bad(`'base_args.${k}' is set by optimize itself; leave it out`);
  const validate = await base.validator();
  if (!validate(args)) {
    const e = validate.errors?.[0];
    const field = `base_args${e?.instancePath.replace(/\//g, '.') ?? ''}${e?.keyword === 'required' ? `.${e.params.missingProperty}` : e?.keyword === 'additionalProperties' ? `.${e.params.additionalProperty}` : ''}`;
    throw bad(
      `'${field}' ${e?.keyword === 'additionalProperties' ? `is not a parameter of ${base.name}` : (e?.message ?? 'is invalid')}`,
      { base_tool: base.name },
    );
  }
  args.name = name;
  const overrides: string[] = [];
  for (const p of input.parameters) {
    if (input.base_tool === 'fine_tune') {
      if (FINE_TUNE_ARGS.includes(p.name)) args[p.name] = placeholder(p.name);
      else if (TORCHTUNE_OVERRIDES[p.name]) overrides.push(`${TORCHTUNE_OVERRIDES[p.name]}=${placeholder(p.name)}`);
      else
        throw bad(
          `fine_tune has no argument for parameter '${p.name}'`,
          { tunable: [...FINE_TUNE_ARGS, ...Object.keys(TORCHTUNE_OVERRIDES)] },
          `Tune one of ${[...FINE_TUNE_ARGS, ...Object.keys(TORCHTUNE_OVERRIDES)].join(', ')}, or use run_custom_training for other hyperparameters.`,
        );
    } else if (input.base_tool === 'run_custom_training') {
      args.func_args = { ...(args.func_args ?? {}), [p.name]: placeholder(p.name) };
    } else if (!JSON.stringify(args).includes(placeholder(p.name))) {
      // A container reads what the user did not place itself from an environment variable.
      args.env = { ...(args.env ?? {}), [p.name.toUpperCase()]: placeholder(p.name) };
    }
  }
  const built =
    input.base_tool === 'fine_tune'
      ? await buildFineTune(args as any, ctx)
      : input.base_tool === 'run_custom_training'
        ? await buildCustomTraining(args as any, ctx)
        : await buildContainerTraining(args as any, ctx);
  if (overrides.length) built.job.spec.trainer.args = [...(built.job.spec.trainer.args ?? []), ...overrides];
  if (input.base_tool === 'run_custom_training') {
    // Numbers reach train(**kwargs) as numbers: the rendered value replaces the quoted placeholder.
    const cmd: string[] = built.job.spec.trainer.command;
    built.job.spec.trainer.command = cmd.map((c) =>
      input.parameters
        .filter(numeric)
        .reduce((s, p) => s.split(JSON.stringify(placeholder(p.name))).join(placeholder(p.name)), c),
    );
  }
  const text = JSON.stringify(built.job);
  const missing = input.parameters.filter((p) => !text.includes(placeholder(p.name)));
  if (missing.length)
    throw bad(`parameter(s) ${missing.map((p) => `'${p.name}'`).join(', ')} appear nowhere in the trial template`, {
      missing: missing.map((p) => p.name),
    });
  return built;
}

export default async function optimize(input: OptimizeInput, ctx: ToolContext) {
  const names = input.parameters.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw bad(`parameter '${dup}' is declared twice`);
  const parameters = input.parameters.map(searchSpace);
  const grid = input.algorithm === 'grid';
  if (grid && input.parameters.some((p) => !p.values))
    throw bad(
      'grid search needs values (choices) for every parameter',
      undefined,
      'Give each parameter values=[...], or use algorithm=random for ranges.',
    );
  const combinations = grid
    ? (input.parameters as Param[]).reduce((n: number, p) => n * p.values!.length, 1)
    : Infinity;
  if (grid && combinations > MAX_GRID && input.num_trials === undefined)
    throw bad(`the grid has ${combinations} combinations; pass num_trials (at most ${MAX_GRID}) or fewer values`);
  const numTrials = input.num_trials ?? (grid ? combinations : 8);
  const parallel = input.parallel_trials!;
  if (parallel > numTrials)
    throw bad(`'parallel_trials' (${parallel}) must not exceed the number of trials (${numTrials})`);

  const model = (input.base_args as Record<string, unknown>).model;
  const modelSlug = (m: string) => {
    if (!isRegistryRef(m)) return baseNameOf(m);
    try {
      const r = parseRegistryRef(m);
      return [r.name, r.version].filter(Boolean).join('-');
    } catch {
      return 'registered';
    }
  };
  const name =
    input.name ??
    nameFor(
      input,
      `${input.base_tool === 'fine_tune' && typeof model === 'string' ? modelSlug(model) : input.base_tool!.replace(/_/g, '-')}-hpo`,
    );
  const built = await template(input, name, ctx);
  const warnings = [...built.warnings];
  if (grid && numTrials < combinations)
    warnings.push(`The grid has ${combinations} combinations; only the first ${numTrials} will run.`);
  if (grid && numTrials > combinations)
    warnings.push(
      `The grid has only ${combinations} combinations, so ${combinations} trials will run, not ${numTrials}.`,
    );
  const b: Built = { ...built, warnings };
  await gpuWarnings(b, ctx, parallel);

  const { job } = built;
  const annotations = { [CALLER_ANNOTATION]: ctx.owner };
  const body = {
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'OptimizationJob',
    metadata: {
      name,
      namespace: ctx.namespace,
      labels: { [OWNER_LABEL]: OWNER_VALUE },
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      numTrials,
      parallelTrials: parallel,
      objectives: [
        {
          metric: input.objective_metric,
          direction: input.objective_direction === 'maximize' ? 'Maximize' : 'Minimize',
        },
      ],
      searchAlgorithm: grid ? { grid: {} } : { random: input.seed !== undefined ? { seed: input.seed } : {} },
      parameters,
      trainJobTemplate: {
        metadata: {
          labels: job.metadata.labels,
          ...(job.metadata.annotations ? { annotations: job.metadata.annotations } : {}),
        },
        spec: job.spec,
      },
    },
  };
  if (!ctx.confirmed) {
    if (b.secret) await ctx.kube.create('secrets', b.secret, ctx.namespace, true);
    await ctx.kube.create('optimizationjobs', body, ctx.namespace, true);
    const secret = shownSecret(b.secret);
    const reg = built.registered;
    return new Preview(
      `${reg ? `Every trial starts from version '${reg.version}' of registered model '${reg.model}' (${reg.uri}). ` : ''}Review this hyperparameter search (${Math.min(numTrials, combinations)} trials of ${input.base_tool}, ${parallel} at a time); call again with the same arguments and confirmed=true to start it.`,
      {
        ...(reg
          ? {
              registered_model: {
                reference: reg.reference,
                model: reg.model,
                version: reg.version,
                version_id: reg.version_id,
                uri: reg.uri,
                format: reg.format,
                read_from: reg.read_from,
              },
            }
          : {}),
        optimizationjob: body,
        ...(secret ? { secret } : {}),
        runtime: summarizeRuntime(b.runtime),
        warnings,
        dry_run: { accepted: true },
      },
    );
  }
  const created = await createWithSecret(
    ctx,
    'optimizationjobs',
    body,
    b.secret,
    () =>
      new ToolError(
        'ALREADY_EXISTS',
        `An OptimizationJob named '${name}' already exists in '${ctx.namespace}'`,
        { name },
        input.name
          ? 'Pick another name=.'
          : 'Names without name= come from the arguments; pass name= to start the same search again.',
      ),
  );
  return {
    name: created.metadata.name,
    namespace: ctx.namespace,
    status: 'Created',
    trials: Math.min(numTrials, combinations),
    parallel_trials: parallel,
    message: `Hyperparameter search '${created.metadata.name}' started`,
    warnings,
    ...(built.registered
      ? { registered_model: { reference: built.registered.reference, version_id: built.registered.version_id } }
      : {}),
    next_steps: [
      `wait_for_optimization(name='${name}') to follow the trials`,
      `get_best_hyperparameters(name='${name}') for the best so far`,
    ],
  };
}
