// Does a torchtune runtime's recipe fit a model? Each torchtune runtime carries the recipe config of
// one model (torchtune-llama3.2-1b runs `--config llama3_2/1B_...`, which builds that very
// architecture), so it fits a model of the same family, version and size, and no other. Anything
// the names leave open is reported as unsure, never as a fit.
import { lookupModel } from './models.ts';
import { parseModelName } from './model-names.ts';

export type Fit = 'fits' | 'unsure' | 'other_size' | 'other_version' | 'other_family';

export interface RecipeFit {
  runtime: string;
  fit: Fit;
  recipe: string;
  reason: string;
}

export interface ModelFacts {
  family?: string;
  version?: string;
  params_b?: number;
}

/** Family, version and size of a model, from its id and (for the size) the catalogue. */
export function modelFacts(model: string): ModelFacts {
  const name = parseModelName(model);
  return { family: name.family, version: name.version, params_b: name.params_b ?? lookupModel(model)?.params_b };
}

/** What a torchtune runtime's recipe is for, from its name as Trainer reads it: torchtune-<model>-<size>. */
export function recipeOf(runtime: string): ModelFacts & { label: string } {
  const facts = modelFacts(runtime.replace(/^torchtune-/, ''));
  const label = [
    facts.family ? `${facts.family}${facts.version ?? ''}` : runtime,
    facts.params_b ? `${facts.params_b}B` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { ...facts, label };
}

const sameSize = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b) <= 0.15;

export function fitOf(model: string, runtime: string): RecipeFit {
  const r = recipeOf(runtime),
    m = modelFacts(model);
  const out = (fit: Fit, reason: string): RecipeFit => ({ runtime, fit, recipe: r.label, reason });
  if (!r.family) return out('unsure', `the runtime's name does not say which model its recipe is for`);
  if (!m.family) return out('unsure', `the model's family cannot be told from its id`);
  if (m.family !== r.family)
    return out('other_family', `its recipe is for ${r.label}, and ${model} is a ${m.family} model`);
  if (r.version && m.version !== r.version) {
    return m.version === undefined
      ? out('unsure', `its recipe is for ${r.label}; the id does not say which ${m.family} version ${model} is`)
      : out('other_version', `its recipe is for ${r.label}, and ${model} is ${m.family}${m.version}`);
  }
  if (r.params_b && m.params_b === undefined)
    return out('unsure', `its recipe is for ${r.label}; the size of ${model} is unknown`);
  if (r.params_b && m.params_b && !sameSize(r.params_b, m.params_b))
    return out(
      'other_size',
      `its recipe builds the ${r.label} architecture, and ${model} has about ${Math.round(m.params_b * 10) / 10}B parameters`,
    );
  return out('fits', `its recipe is for ${r.label}, the family, version and size of ${model}`);
}
