// The job view: status, steps, progress and ETA, the loss and learning-rate curve parsed from the
// trainer's log, the last log lines, warnings, and for a failed job the failing step with the
// server's diagnosis and fix. It polls get_training_job and get_training_logs through the host
// (bounded by the server's poll policy) until the job ends.
import { lossChartSvg, metricSeries, progressFromLog } from '../runtime/views/chart.ts';
import { badge, duration, facts, h, section, svg, table } from './dom.ts';
import type { Ctx, Envelope } from './host.ts';
import { outcome, renderPreview } from './preview.ts';
import { colors } from './theme.ts';

const ENDED = ['Complete', 'Failed'];
const LOG_ARGS = { tail_lines: 1000, max_bytes: 262_144 };

interface State {
  job?: Envelope;
  logs?: Envelope;
  failed?: Envelope;
  waited?: Envelope;
}

export function jobView(ctx: Ctx, first: Envelope) {
  const d = first.data ?? {};
  const name = String(d.name ?? d.job ?? ctx.args.name ?? '');
  const namespace = (d.namespace ?? ctx.args.namespace) as string | undefined;
  const ref = { name, ...(namespace ? { namespace } : {}) };
  const st: State = ctx.tool === 'wait_for_training' ? { waited: first } : { job: first };
  const canPoll = (t: string) => ctx.meta.polls.includes(t);
  // Kept across redraws, so a poll does not wipe a preview the person is reading.
  const panel = h('div', {});

  async function refresh(): Promise<boolean> {
    if (canPoll('get_training_job')) st.job = await ctx.call('get_training_job', ref);
    const job = st.job?.data;
    const failedStep = job?.steps?.find((s: any) => s.status === 'Failed')?.name;
    const trainer = job?.steps?.find((s: any) => /^node-0$|^node$/.test(s.name))?.name ?? 'node-0';
    if (canPoll('get_training_logs') && job && job.status !== 'Created') {
      st.logs = await ctx.call('get_training_logs', {
        ...ref,
        step: job.steps?.some((s: any) => s.name === trainer) ? trainer : (failedStep ?? trainer),
        ...LOG_ARGS,
      });
      if (failedStep)
        st.failed =
          failedStep === st.logs?.data?.step
            ? st.logs
            : await ctx.call('get_training_logs', { ...ref, step: failedStep, tail_lines: 200 });
    }
    draw();
    return !!job && !ENDED.includes(job.status);
  }

  function draw() {
    const job = st.job?.success ? st.job.data : undefined;
    const status: string = job?.status ?? st.waited?.data?.status ?? 'Unknown';
    const logText: string = st.logs?.success ? (st.logs.data.logs ?? '') : '';
    const points = metricSeries(logText);
    const bar = progressFromLog(logText);
    // The status is written by the trainer now and then, the log line by line: show whichever is
    // further along, so the percentage and the "step N of M" beside it never disagree.
    const statusPct: number | undefined = job?.progress?.progressPercentage;
    const logPct = bar ? Math.round((100 * bar.step) / bar.total) : undefined;
    const fromLog = logPct !== undefined && (statusPct === undefined || logPct >= statusPct);
    const pct = fromLog ? logPct : statusPct;
    const statusEta =
      job?.progress?.estimatedRemainingSeconds !== undefined
        ? duration(job.progress.estimatedRemainingSeconds)
        : undefined;
    const eta: string | undefined = fromLog ? (bar?.eta ?? statusEta) : (statusEta ?? bar?.eta);
    const parts: Array<HTMLElement | null> = [
      h('header', { class: 'title' }, h('h1', {}, name), badge(status)),
      facts([
        ['Namespace', namespace ?? job?.namespace],
        ['Runtime', job?.runtime?.name],
        ['Nodes', job?.num_nodes],
        ['Created', job?.creation_timestamp],
        ['Finished', job?.completion_time ?? undefined],
      ]),
    ];
    if (st.job && !st.job.success) parts.push(h('div', { class: 'notice err' }, st.job.error ?? 'Cannot read the job'));
    if (pct !== undefined) {
      parts.push(
        section(
          'Progress',
          h(
            'div',
            {
              class: 'progress',
              role: 'progressbar',
              'aria-valuenow': String(pct),
              'aria-valuemin': '0',
              'aria-valuemax': '100',
              'data-testid': 'progress',
            },
            h('div', { style: `width:${Math.min(100, pct)}%` }),
          ),
          h(
            'p',
            { class: 'muted' },
            `${pct}%${bar && fromLog ? ` · step ${bar.step} of ${bar.total}` : ''}${eta ? ` · about ${eta} left` : ''}`,
          ),
        ),
      );
    }
    const lossCount = points.filter((p) => p.loss !== undefined).length;
    if (lossCount) {
      const c = colors();
      parts.push(
        section(
          'Loss and learning rate',
          svg(
            lossChartSvg(points, { width: 640, height: 260, text: c.text, grid: c.grid, loss: c.accent, lr: c.warn }),
            `Loss curve with ${lossCount} points`,
          ),
          h(
            'p',
            { class: 'muted', 'data-testid': 'curve-caption' },
            `${lossCount} points, last loss ${points.filter((p) => p.loss !== undefined).at(-1)!.loss}`,
          ),
        ),
      );
    }
    if (job?.steps?.length) {
      parts.push(
        section(
          'Steps',
          table(
            ['Step', 'State', 'Restarts', 'Device'],
            job.steps.map((s: any) => [
              s.name,
              badge(String(s.status)),
              String(s.restarts ?? 0),
              s.device_count ? `${s.device_count} × ${s.device}` : '',
            ]),
            (i) => ({ 'data-step': job.steps[i].name, 'data-state': job.steps[i].status }),
          ),
        ),
      );
    }
    parts.push(failure(status, job));
    const warnings = [
      job?.status === 'Failed' ? job.reason : undefined,
      st.logs?.data?.message,
      st.waited?.data?.message,
      st.waited?.data?.hint,
    ].filter((w): w is string => typeof w === 'string' && !!w);
    if (warnings.length)
      parts.push(
        section(
          'Warnings',
          h(
            'div',
            { class: 'notice warn', 'data-testid': 'warnings' },
            h('ul', {}, ...warnings.map((w) => h('li', {}, w))),
          ),
        ),
      );
    if (logText)
      parts.push(
        section(
          'Last log lines',
          h('pre', { class: 'log', 'data-testid': 'log-tail' }, logText.trimEnd().split('\n').slice(-12).join('\n')),
        ),
      );
    parts.push(actions(job));
    ctx.root.replaceChildren(...parts.filter((p): p is HTMLElement => !!p));
  }

  /** The failing step, what the server diagnosed, and the fix it offers. */
  function failure(status: string, job: any): HTMLElement | null {
    const logs = st.failed?.data;
    const fix = logs?.fix ?? st.waited?.data?.fix;
    if (status !== 'Failed' && !fix) return null;
    const step = logs?.step ?? job?.steps?.find((s: any) => s.status === 'Failed')?.name;
    const hint = logs?.failure_hint;
    return section(
      'Failure',
      h(
        'div',
        { class: 'notice err', 'data-testid': 'failure' },
        step ? h('p', {}, 'Failed step: ', h('strong', { 'data-testid': 'failed-step' }, step)) : null,
        hint
          ? h('p', { 'data-testid': 'diagnosis' }, `${hint.category}: ${hint.suggestion ?? hint.message ?? ''}`)
          : null,
        fix
          ? h(
              'div',
              { 'data-testid': 'fix' },
              h('p', {}, `Fix: ${fix.change ?? ''}`),
              h(
                'p',
                { class: 'muted' },
                `${fix.tool}(${Object.entries(fix.arguments ?? {})
                  .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                  .join(', ')})`,
              ),
            )
          : null,
      ),
    );
  }

  /** The job's actions this caller may take, each through its preview. */
  function actions(job: any): HTMLElement | null {
    if (!job) return null;
    const offered: Array<[string, string, Record<string, unknown>]> = [];
    if (ctx.meta.actions.includes('update_training_job') && !ENDED.includes(job.status))
      offered.push([
        job.suspended ? 'Resume' : 'Suspend',
        'update_training_job',
        { action: job.suspended ? 'resume' : 'suspend' },
      ]);
    if (ctx.meta.actions.includes('delete_training_job')) offered.push(['Delete', 'delete_training_job', {}]);
    if (!offered.length) return null;
    const buttons = offered.map(([label, tool, extra]) =>
      h(
        'button',
        {
          'data-action': tool,
          onclick: async () => {
            const args = { ...ref, ...extra };
            const env = await ctx.call(tool, args);
            if (env.status === 'preview')
              renderPreview(ctx, tool, args, env, panel, () => {
                void refresh();
              });
            else panel.replaceChildren(outcome(env));
          },
        },
        label,
      ),
    );
    return section('Actions', h('div', { class: 'actions' }, ...buttons), panel);
  }

  draw();
  void refresh().then((more) => {
    if (more) ctx.poll(refresh);
  });
}
