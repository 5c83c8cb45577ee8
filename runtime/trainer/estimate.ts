// Offline memory estimate for fine-tuning. The parameter count comes, in this order, from the
// params_billions input, the offline catalogue, the Hugging Face Hub (when reachable), or the
// model id itself (7B, 1.5B, 270m, 8x7B); the answer says which, and how sure it is. Only a model
// none of these can size is refused, with close catalogue matches and the params_billions input.
import type { EstimateResourcesInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import { estimate, lookupModel, modelOfSize, suggestModels, type ModelInfo } from './models.ts';
import { parseModelName } from './model-names.ts';
import { hubModel } from './hub.ts';
import { environment, type Env } from '../settings.ts';

type Input = Omit<EstimateResourcesInput, 'model'> & { model: string; params_billions?: number };

interface Sized {
  m: ModelInfo;
  source: string;
  confidence: 'high' | 'medium' | 'low';
  uncertainty?: string;
}

const bareId = (model: string) => model.replace(/^hf:\/\//, '').replace(/:[\w.-]+$/, '');

/** Where the parameter count comes from, or undefined when nothing tells it. */
export async function sizeModel(
  model: string,
  params_billions?: number,
  env: Env = environment(),
): Promise<Sized | undefined> {
  const local = lookupModel(model);
  if (params_billions !== undefined) {
    const shape = local ? { hidden: local.hidden, layers: local.layers } : undefined;
    return {
      m: modelOfSize(local?.id ?? bareId(model), params_billions, shape),
      source: 'params_billions input',
      confidence: 'medium',
      uncertainty: local
        ? `the count given replaces the catalogue's ${Math.round(local.params_b * 100) / 100}B; the shape is ${local.id}'s`
        : 'the parameter count is as given; the layer shape (for activations) is typical for that size',
    };
  }
  if (local) return { m: local, source: 'offline catalogue', confidence: 'high' };
  const hub = await hubModel(bareId(model), env);
  if (hub) return { m: hub, source: 'Hugging Face Hub', confidence: 'high' };
  const name = parseModelName(model);
  if (name.params_b === undefined) return undefined;
  return {
    m: modelOfSize(bareId(model), name.params_b),
    source: 'inferred from the name',
    confidence: 'low',
    uncertainty: `the size comes from "${name.size_text}" in the id${name.family ? ` and the family (${name.family}) from its name` : ', the family is unknown'}; names round the size (a "7B" model has 6.7-8.5B parameters), so memory may be 10-20 % higher. Pass params_billions for the exact count.`,
  };
}

export async function estimateFor(input: Input) {
  const sized = await sizeModel(input.model, input.params_billions);
  if (!sized) {
    const active = parseModelName(input.model).active_params_b;
    const why = active
      ? `its name gives only the active parameters of a mixture of experts (${active}B), not the total that has to fit in memory`
      : 'its name gives no size such as 7B or 1.5B';
    throw new ToolError(
      'VALIDATION_ERROR',
      `Unknown model '${input.model}': not in the offline catalogue, not found on the Hugging Face Hub (or offline), and ${why}; pass params_billions (its total parameter count in billions) to estimate it`,
      { field: 'params_billions', suggestions: suggestModels(input.model) },
      'Pass params_billions=<billions of parameters> for this model, or use one of the suggestions (catalogue ids such as google/gemma-2b).',
    );
  }
  const { m } = sized;
  const name = parseModelName(input.model);
  const e = estimate(m, {
    method: input.method ?? 'lora',
    batch_size: input.batch_size ?? 4,
    sequence_length: input.sequence_length ?? 2048,
    quantization: input.quantization ?? 'bf16',
    gradient_checkpointing: input.gradient_checkpointing ?? true,
    num_workers: input.num_workers ?? 1,
    gpu_memory_gb: input.gpu_memory_gb,
  });
  return {
    model: input.model,
    resolved_model: m.id,
    method: input.method ?? 'lora',
    num_workers: input.num_workers ?? 1,
    batch_size: input.batch_size ?? 4,
    sequence_length: input.sequence_length ?? 2048,
    quantization: input.method === 'qlora' ? 'int4 (QLoRA base)' : (input.quantization ?? 'bf16'),
    ...e,
    gpu_memory_required: `${Math.ceil(e.gpu_memory_required_gb)}GB`,
    training_type: `${(input.method ?? 'lora').toUpperCase()} (${input.quantization ?? 'bf16'})`,
    // A hyperparameter search runs this many copies at once: the GPU plan is per trial times that.
    ...(input.parallel_trials && input.parallel_trials > 1
      ? { parallel_trials: input.parallel_trials, total_gpu_all_trials: e.total_gpu * input.parallel_trials }
      : {}),
    recommendation:
      input.parallel_trials && input.parallel_trials > 1
        ? `Request ${e.total_gpu} GPU(s) per trial, ${e.total_gpu * input.parallel_trials} for ${input.parallel_trials} trials at once - ${e.gpu_type_recommended}`
        : `Request ${e.total_gpu} GPU(s) - ${e.gpu_type_recommended}`,
    source: sized.source,
    confidence: sized.confidence,
    ...(sized.uncertainty ? { uncertainty: sized.uncertainty } : {}),
    ...(sized.source !== 'offline catalogue' && name.family ? { family: name.family } : {}),
    ...(sized.source === 'inferred from the name' && name.experts
      ? {
          experts: name.experts,
          note: `a mixture of ${name.experts} experts: every expert's weights are in memory (about ${m.params_b}B in all), though only about ${name.active_params_b}B are active per token`,
        }
      : {}),
    ...(sized.source === 'inferred from the name' && !name.experts && name.active_params_b
      ? {
          note: `a mixture of experts with about ${name.active_params_b}B active per token: all ${m.params_b}B are held in memory`,
        }
      : {}),
  };
}
