// Offline memory estimate for fine-tuning; an unknown model is a validation error with close matches.
import type { EstimateResourcesInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { estimate, lookupModel, suggestModels } from '../trainer/models.ts';
import { hubModel } from '../trainer/hub.ts';

export async function estimateFor(input: Omit<EstimateResourcesInput, 'model'> & { model: string }) {
  const local = lookupModel(input.model);
  const m = local ?? (await hubModel(input.model.replace(/^hf:\/\//, '').replace(/:[\w.-]+$/, '')));
  if (!m) throw new ToolError('VALIDATION_ERROR', `Unknown model '${input.model}': not in the offline catalogue`, { suggestions: suggestModels(input.model) }, 'Use one of the suggestions, or a model id from the catalogue (e.g. google/gemma-2b).');
  const e = estimate(m, { method: input.method ?? 'lora', batch_size: input.batch_size ?? 4, sequence_length: input.sequence_length ?? 2048, quantization: input.quantization ?? 'bf16', gradient_checkpointing: input.gradient_checkpointing ?? true, num_workers: input.num_workers ?? 1, gpu_memory_gb: input.gpu_memory_gb });
  return {
    model: input.model, resolved_model: m.id, method: input.method ?? 'lora', num_workers: input.num_workers ?? 1, batch_size: input.batch_size ?? 4,
    sequence_length: input.sequence_length ?? 2048, quantization: input.method === 'qlora' ? 'int4 (QLoRA base)' : input.quantization ?? 'bf16', ...e,
    gpu_memory_required: `${Math.ceil(e.gpu_memory_required_gb)}GB`,
    training_type: `${(input.method ?? 'lora').toUpperCase()} (${input.quantization ?? 'bf16'})`,
    // A hyperparameter search runs this many copies at once: the GPU plan is per trial times that.
    ...(input.parallel_trials && input.parallel_trials > 1 ? { parallel_trials: input.parallel_trials, total_gpu_all_trials: e.total_gpu * input.parallel_trials } : {}),
    recommendation: input.parallel_trials && input.parallel_trials > 1
      ? `Request ${e.total_gpu} GPU(s) per trial, ${e.total_gpu * input.parallel_trials} for ${input.parallel_trials} trials at once - ${e.gpu_type_recommended}`
      : `Request ${e.total_gpu} GPU(s) - ${e.gpu_type_recommended}`,
    source: local ? 'offline catalogue' : 'Hugging Face Hub',
  };
}

export default async function estimateResources(input: EstimateResourcesInput, _ctx: ToolContext) {
  return await estimateFor(input);
}
