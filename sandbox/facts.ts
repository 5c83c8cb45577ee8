// Facts of the world the sandbox simulates, stated here and nowhere else in it: the sandbox shares
// no domain code with the server it is used to test, so a wrong fact on one side shows up as a
// disagreement instead of being agreed on by both.

/**
 * Hugging Face organisations and model families whose repositories are gated (an accepted licence
 * and a token are needed to download them, else the Hub answers 401): Meta's Llama, Google's Gemma
 * and Mistral AI's models.
 */
const GATED_PREFIXES = ['meta-llama/', 'google/gemma', 'mistralai/'];

/** Does downloading this model (an `hf://` URI or a bare repository id) need a token? */
export function needsHubToken(storageUri: string): boolean {
  const id = storageUri
    .trim()
    .toLowerCase()
    .replace(/^hf:\/\//, '');
  return GATED_PREFIXES.some((p) => id.startsWith(p));
}

/** Labels and the annotation the OptimizationJob controller puts on each trial's TrainJob. */
export const TRIAL_OF_LABEL = 'trainer.kubeflow.org/optimization-job';
export const TRIAL_INDEX_LABEL = 'trainer.kubeflow.org/trial-index';
export const TRIAL_PARAMETERS_ANNOTATION = 'trainer.kubeflow.org/trial-parameters';

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("500m", "16Gi", "1e3", 2) as a number; NaN when it is not one. */
export function quantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = q.trim().match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/);
  if (!m) return NaN;
  return Number(m[1] + (m[2] ?? '')) * SUFFIX[m[3] ?? ''];
}

/** Seconds torchrun's static rendezvous waits for every node (its `rdzv_configs` timeout). */
export const TORCH_RENDEZVOUS_TIMEOUT_SECONDS = 900;
