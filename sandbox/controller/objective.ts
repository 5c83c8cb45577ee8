// The sandbox's objective surface for hyperparameter trials: a deterministic function of a trial's
// parameters, so a test knows the true optimum. Loss is lowest at a learning rate of 3e-4, LoRA rank
// 16, batch size 8, 3 epochs and dropout 0.05 (measured in log space for the scale-like ones);
// any other parameter adds a fixed penalty per value, derived from its text.
const OPTIMA: Record<string, { best: number; log: boolean; weight: number }> = {
  learning_rate: { best: 3e-4, log: true, weight: 0.6 },
  lr: { best: 3e-4, log: true, weight: 0.6 },
  lora_rank: { best: 16, log: true, weight: 0.3 },
  lora_alpha: { best: 32, log: true, weight: 0.2 },
  batch_size: { best: 8, log: true, weight: 0.2 },
  epochs: { best: 3, log: false, weight: 0.05 },
  lora_dropout: { best: 0.05, log: false, weight: 2 },
  weight_decay: { best: 0.01, log: true, weight: 0.1 },
};

function textPenalty(name: string, value: string): number {
  let h = 2166136261;
  for (const ch of `${name}=${value}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return ((h >>> 0) % 1000) / 4000; // 0 .. 0.25
}

/** Final loss of a trial with these parameter values (as the template rendered them, text). */
export function trialLoss(params: Record<string, string>): number {
  let loss = 0.45;
  for (const [name, raw] of Object.entries(params)) {
    const o = OPTIMA[name.toLowerCase()];
    const v = Number(raw);
    if (!o || !Number.isFinite(v) || (o.log && v <= 0)) {
      loss += textPenalty(name, raw);
      continue;
    }
    const d = o.log ? Math.log10(v / o.best) : v - o.best;
    loss += o.weight * d * d;
  }
  return Math.round(loss * 1e4) / 1e4;
}

/** The metrics a finished trial reports: loss and a matching accuracy, for either direction. */
export function trialMetrics(params: Record<string, string>) {
  const loss = trialLoss(params);
  return [
    { name: 'loss', value: loss.toFixed(4) },
    { name: 'accuracy', value: (1 / (1 + loss)).toFixed(4) },
  ];
}
