// The curves the views draw and the server renders as images: the loss and learning-rate series
// parsed from a whole training log (every step, where live-resources.ts keeps only the latest), and
// a small SVG chart of lines or points. Pure functions over strings, with no Node or DOM import, so
// the views' bundle and the server share them.

export interface MetricPoint {
  step: number;
  loss?: number;
  lr?: number;
}

const NUM = '([0-9]*\\.?[0-9]+(?:e[-+]?\\d+)?)';
// `loss` as its own word (not train_loss or eval_loss), in the styles the trainers print.
const LOSS = new RegExp(`(?:^|[\\s{,|])'?loss'?\\s*[:=\\s]\\s*${NUM}`, 'i');
const LR = new RegExp(`(?:\\blr[=:]\\s*|'learning_rate':\\s*)${NUM}`, 'i');
const STEP = /(?:\bstep[=:\s]+|^\d+\|)(\d+)/i;
const BAR = /\b(\d+)\/(\d+) \[/;
/** At most this many points are kept (the latest), so a long log cannot make the answer unbounded. */
export const MAX_POINTS = 2000;

/**
 * Loss and learning rate per step, from torchtune (`Step 50 | loss:0.87 lr:3e-05`, `1|50|Loss: 0.87`),
 * Hugging Face Trainer dicts after a tqdm bar (`50/100 [..]` then `{'loss': 0.87, 'learning_rate': ..}`),
 * and plain `step=50 loss=0.87` or `step 50: loss 0.87` lines. Lines for the same step merge.
 */
export function metricSeries(text: string): MetricPoint[] {
  const byStep = new Map<number, MetricPoint>();
  let barStep: number | undefined;
  for (const line of text.split('\n')) {
    const bar = BAR.exec(line);
    if (bar) barStep = Number(bar[1]);
    const loss = LOSS.exec(line);
    const lr = LR.exec(line);
    if (!loss && !lr) continue;
    const s = STEP.exec(line);
    const step = s ? Number(s[1]) : barStep;
    if (step === undefined) continue;
    const p = byStep.get(step) ?? { step };
    if (loss) p.loss = Number(loss[1]);
    if (lr) p.lr = Number(lr[1]);
    byStep.set(step, p);
  }
  const points = [...byStep.values()].sort((a, b) => a.step - b.step);
  return points.slice(-MAX_POINTS);
}

/** The last progress bar of a log (tqdm style `50/100 [00:20<00:20, ..]`): step, total and the time left. */
export function progressFromLog(text: string): { step: number; total: number; eta?: string } | undefined {
  const re = /\b(\d+)\/(\d+) \[(?:[\d:]+)<([\d:]+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  return last ? { step: Number(last[1]), total: Number(last[2]), eta: last[3] } : undefined;
}

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  axis?: 'left' | 'right';
  kind?: 'line' | 'points';
  marked?: number;
}
export interface ChartOptions {
  width: number;
  height: number;
  xLabel: string;
  leftLabel: string;
  rightLabel?: string;
  logX?: boolean;
  text: string;
  grid: string;
  background?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) =>
  v !== 0 && (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e5) ? v.toExponential(1) : String(Number(v.toPrecision(3)));

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values),
    hi = Math.max(...values);
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) {
    const d = Math.abs(lo) * 0.1 || 1;
    lo -= d;
    hi += d;
  }
  return [lo, hi];
}

/** An SVG chart (a string): lines or points on one or two y axes, the marked point ringed. */
export function chartSvg(series: Series[], o: ChartOptions): string {
  const pad = { l: 52, r: o.rightLabel ? 52 : 14, t: 12, b: 36 };
  const w = o.width - pad.l - pad.r,
    h = o.height - pad.t - pad.b;
  const tx = (v: number) => (o.logX ? Math.log10(v) : v);
  const xs = series.flatMap((s) => s.points.map((p) => tx(p[0])));
  const [x0, x1] = extent(xs);
  const axes = {
    left: extent(series.filter((s) => s.axis !== 'right').flatMap((s) => s.points.map((p) => p[1]))),
    right: extent(series.filter((s) => s.axis === 'right').flatMap((s) => s.points.map((p) => p[1]))),
  };
  const X = (v: number) => pad.l + ((tx(v) - x0) / (x1 - x0)) * w;
  const Y = (v: number, axis: 'left' | 'right') => {
    const [lo, hi] = axes[axis];
    return pad.t + h - ((v - lo) / (hi - lo)) * h;
  };
  const r = (n: number) => n.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${o.width} ${o.height}" width="${o.width}" height="${o.height}" role="img" font-family="sans-serif" font-size="11">`,
  ];
  if (o.background) parts.push(`<rect width="100%" height="100%" fill="${esc(o.background)}"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (h * i) / 4;
    parts.push(
      `<line x1="${pad.l}" x2="${pad.l + w}" y1="${r(y)}" y2="${r(y)}" stroke="${esc(o.grid)}" stroke-width="1"/>`,
    );
    const [lo, hi] = axes.left;
    parts.push(
      `<text x="${pad.l - 6}" y="${r(y + 4)}" text-anchor="end" fill="${esc(o.text)}">${esc(fmt(hi - ((hi - lo) * i) / 4))}</text>`,
    );
    if (o.rightLabel) {
      const [a, b] = axes.right;
      parts.push(
        `<text x="${pad.l + w + 6}" y="${r(y + 4)}" fill="${esc(o.text)}">${esc(fmt(b - ((b - a) * i) / 4))}</text>`,
      );
    }
  }
  for (let i = 0; i <= 4; i++) {
    const v = x0 + ((x1 - x0) * i) / 4;
    parts.push(
      `<text x="${r(pad.l + (w * i) / 4)}" y="${pad.t + h + 16}" text-anchor="middle" fill="${esc(o.text)}">${esc(fmt(o.logX ? 10 ** v : v))}</text>`,
    );
  }
  parts.push(
    `<text x="${pad.l + w / 2}" y="${o.height - 4}" text-anchor="middle" fill="${esc(o.text)}">${esc(o.xLabel)}</text>`,
  );
  parts.push(
    `<text x="12" y="${pad.t + h / 2}" text-anchor="middle" transform="rotate(-90 12 ${pad.t + h / 2})" fill="${esc(o.text)}">${esc(o.leftLabel)}</text>`,
  );
  if (o.rightLabel)
    parts.push(
      `<text x="${o.width - 8}" y="${pad.t + h / 2}" text-anchor="middle" transform="rotate(90 ${o.width - 8} ${pad.t + h / 2})" fill="${esc(o.text)}">${esc(o.rightLabel)}</text>`,
    );
  for (const s of series) {
    const axis = s.axis ?? 'left';
    const pts = s.points.map(([x, y]) => [X(x), Y(y, axis)] as const);
    const attrs = `data-series="${esc(s.name)}" data-count="${s.points.length}"`;
    if ((s.kind ?? 'line') === 'line')
      parts.push(
        `<polyline ${attrs} fill="none" stroke="${esc(s.color)}" stroke-width="2" points="${pts.map(([x, y]) => `${r(x)},${r(y)}`).join(' ')}"/>`,
      );
    else
      parts.push(
        `<g ${attrs} fill="${esc(s.color)}">${pts.map(([x, y]) => `<circle cx="${r(x)}" cy="${r(y)}" r="4"/>`).join('')}</g>`,
      );
    if (s.marked !== undefined && pts[s.marked]) {
      const [x, y] = pts[s.marked];
      parts.push(
        `<circle data-marked="${esc(s.name)}" cx="${r(x)}" cy="${r(y)}" r="8" fill="none" stroke="${esc(s.color)}" stroke-width="2"/>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The loss (left axis) and learning-rate (right axis) chart of a log's series. */
export function lossChartSvg(
  points: MetricPoint[],
  o: Pick<ChartOptions, 'width' | 'height' | 'text' | 'grid' | 'background'> & { loss: string; lr: string },
): string {
  const loss = points.filter((p) => p.loss !== undefined).map((p) => [p.step, p.loss!] as [number, number]);
  const lr = points.filter((p) => p.lr !== undefined).map((p) => [p.step, p.lr!] as [number, number]);
  const series: Series[] = [{ name: 'loss', points: loss, color: o.loss }];
  if (lr.length) series.push({ name: 'learning_rate', points: lr, color: o.lr, axis: 'right' });
  return chartSvg(series, {
    ...o,
    xLabel: 'step',
    leftLabel: 'loss',
    ...(lr.length ? { rightLabel: 'learning rate' } : {}),
  });
}

export interface TrialPoint {
  value: number;
  objective: number;
  best: boolean;
}

/** Objective against one parameter's values, one point per finished trial, the best ringed. */
export function objectiveChartSvg(
  param: string,
  metric: string,
  trials: TrialPoint[],
  o: Pick<ChartOptions, 'width' | 'height' | 'text' | 'grid' | 'background'> & { color: string },
): string {
  const vals = trials.map((t) => t.value).filter((v) => v > 0);
  const logX = vals.length === trials.length && vals.length > 1 && Math.max(...vals) / Math.min(...vals) >= 100;
  const best = trials.findIndex((t) => t.best);
  return chartSvg(
    [
      {
        name: param,
        points: trials.map((t) => [t.value, t.objective]),
        color: o.color,
        kind: 'points',
        ...(best >= 0 ? { marked: best } : {}),
      },
    ],
    { ...o, xLabel: param, leftLabel: metric, logX },
  );
}
