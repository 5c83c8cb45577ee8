// fine_tune: the TrainJob of trainer/fine-tune.ts, previewed as a dry run or submitted. A model
// from the registry is named in the preview and the answer (which version, read from where).
import type { FineTuneInput } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { Preview } from '../envelope.ts';
import { buildFineTune } from '../trainer/fine-tune.ts';
import { previewOrSubmit } from '../trainer/submit.ts';

export default async function fineTune(input: FineTuneInput, ctx: ToolContext) {
  const built = await buildFineTune(input, ctx);
  const out = await previewOrSubmit(built, ctx, 'fine-tuning job');
  const reg = built.registered;
  if (!reg) return out;
  const registered_model = {
    reference: reg.reference,
    model: reg.model,
    version: reg.version,
    version_id: reg.version_id,
    uri: reg.uri,
    format: reg.format,
    ...(reg.base_model ? { base_model: reg.base_model } : {}),
    read_from: reg.read_from,
  };
  if (out instanceof Preview) {
    out.message = `Starts from version '${reg.version}' of registered model '${reg.model}' (${reg.uri}). ${out.message}`;
    out.config = { registered_model, ...out.config };
    return out;
  }
  return { ...out, registered_model };
}
