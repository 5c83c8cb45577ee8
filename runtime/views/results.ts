// What a tool answer carries for the views. For a client with the extension: in the result's
// _meta, which of the view's actions this caller may take (its persona's tools after the policy,
// so a readonly view offers none) and how often the view may poll. For a client without it, and
// only when KUBEFLOW_MCP_CHART_IMAGES=svg: the job's loss curve or the search's objective plot as
// an image content block. tools/list is the same either way.
import { VIEWS, VIEW_OF_TOOL } from '../../generated/views.ts';
import type { ServerState } from '../context.ts';
import { runTool } from '../pipeline.ts';
import { lossChartSvg, metricSeries, objectiveChartSvg } from './chart.ts';
import { defaultOf, environment, envText, type Env } from '../settings.ts';

export const VIEW_META_KEY = 'kubeflow-mcp/view';
export type ChartImages = 'off' | 'svg';

/** KUBEFLOW_MCP_CHART_IMAGES: off (the default) or svg. */
export function chartImagesFrom(env: Env = environment()): ChartImages {
  const v = (envText('chartImages', env) ?? defaultOf('chartImages')).toLowerCase();
  if (v === 'off' || v === '' || v === '0' || v === 'false') return 'off';
  if (v === 'svg' || v === '1' || v === 'true') return 'svg';
  throw new Error(`invalid KUBEFLOW_MCP_CHART_IMAGES "${envText('chartImages', env)}"; expected svg or off`);
}

const bounded = (raw: string | undefined, dflt: number, lo: number, hi: number) => {
  const n = raw === undefined ? dflt : Number(raw);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.round(n))) : dflt;
};

/** How often and how many times a view polls (KUBEFLOW_MCP_VIEW_POLL_MS, KUBEFLOW_MCP_VIEW_MAX_POLLS), within fixed bounds. */
export function pollPolicy(env: Env = environment()) {
  return {
    interval_ms: bounded(envText('viewPollMs', env), defaultOf('viewPollMs'), 250, 60_000),
    max_polls: bounded(envText('viewMaxPolls', env), defaultOf('viewMaxPolls'), 1, 720),
  };
}

/** The result _meta a view reads, for a tool linked to one; undefined otherwise. */
export function viewMeta(state: ServerState, tool: string, env: Env = environment()) {
  const uri = VIEW_OF_TOOL[tool];
  const view = VIEWS.find((v) => v.uri === uri);
  if (!view) return undefined;
  // A preview's Approve calls the tool itself; other views offer their declared actions.
  const offered = view.name === 'preview' ? [tool] : view.actions;
  const polls = Object.keys(view.polls).filter((t) => state.tools.has(t));
  return {
    [VIEW_META_KEY]: {
      view: view.name,
      tool,
      actions: offered.filter((t) => state.tools.has(t)),
      polls,
      poll: pollPolicy(env),
    },
  };
}

const PALETTE = { width: 640, height: 280, text: '#334155', grid: '#e2e8f0', background: '#ffffff' };
const svgBlock = (svg: string) => ({
  type: 'image' as const,
  data: Buffer.from(svg).toString('base64'),
  mimeType: 'image/svg+xml',
});

/** The chart of this answer as an image block, when its view has one and there is something to draw. */
export async function chartImage(
  state: ServerState,
  tool: string,
  args: Record<string, any>,
  result: Record<string, any>,
) {
  const view = VIEWS.find((v) => v.uri === VIEW_OF_TOOL[tool]);
  if (!view?.image || result.success !== true) return undefined;
  const data = result.data ?? {};
  if (view.image === 'loss') {
    const name = data.name ?? data.job;
    if (!name || !state.tools.has('get_training_logs')) return undefined;
    const logs: any = await runTool(state, 'get_training_logs', {
      name,
      ...(args.namespace ? { namespace: args.namespace } : {}),
      tail_lines: 1000,
      max_bytes: 262_144,
    });
    const points = logs.success ? metricSeries(String(logs.data.logs ?? '')) : [];
    if (points.filter((p) => p.loss !== undefined).length < 2) return undefined;
    return svgBlock(lossChartSvg(points, { ...PALETTE, loss: '#2563eb', lr: '#d97706' }));
  }
  const param = data.search_space?.[0]?.name;
  const trials = (Array.isArray(data.trials) ? data.trials : []).filter(
    (t: any) => t.objective !== null && Number.isFinite(Number(t.parameters?.[param])),
  );
  if (!param || trials.length < 1) return undefined;
  const points = trials.map((t: any) => ({
    value: Number(t.parameters[param]),
    objective: t.objective,
    best: t.name === data.best?.name,
  }));
  return svgBlock(
    objectiveChartSvg(param, data.objective?.metric ?? 'objective', points, { ...PALETTE, color: '#2563eb' }),
  );
}
