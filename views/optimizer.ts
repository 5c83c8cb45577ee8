// The optimizer view: a search's trials as a table and the objective against each parameter, the
// best trial marked; it polls get_optimization_job through the host until the search ends.
import { objectiveChartSvg } from '../runtime/views/chart.ts';
import { badge, facts, h, section, svg, table } from './dom.ts';
import type { Ctx, Envelope } from './host.ts';
import { outcome, renderPreview } from './preview.ts';
import { colors } from './theme.ts';

const ENDED = ['Complete', 'Failed'];

export function optimizerView(ctx: Ctx, first: Envelope) {
  let env = first;
  const ref = {
    name: String(first.data?.name ?? ctx.args.name ?? ''),
    ...((first.data?.namespace ?? ctx.args.namespace)
      ? { namespace: String(first.data?.namespace ?? ctx.args.namespace) }
      : {}),
  };
  let param: string | undefined;
  // Kept across redraws, so a poll does not wipe a preview the person is reading.
  const panel = h('div', {});

  function draw() {
    const d = env.data ?? {};
    if (!env.success) {
      ctx.root.replaceChildren(h('h1', {}, ref.name), h('div', { class: 'notice err' }, env.error ?? 'Failed'));
      return;
    }
    const params: string[] = (d.search_space ?? []).map((p: any) => p.name);
    param = param && params.includes(param) ? param : params[0];
    const trials: any[] = Array.isArray(d.trials) ? d.trials : [];
    const bestName = d.best?.name;
    const p = d.progress ?? {};
    const parts: Array<HTMLElement | null> = [
      h('header', { class: 'title' }, h('h1', {}, d.name), badge(String(d.status))),
      facts([
        ['Objective', `${d.objective?.direction ?? ''} ${d.objective?.metric ?? ''}`],
        ['Algorithm', d.algorithm],
        [
          'Trials',
          `${p.created ?? 0} of ${p.planned ?? '?'} created, ${p.finished ?? 0} finished, ${p.failed ?? 0} failed`,
        ],
        ['Best', bestName ? `${bestName} (${d.best.objective})` : 'none yet'],
      ]),
    ];
    const done = trials.filter((t) => t.objective !== null && param && Number.isFinite(Number(t.parameters?.[param])));
    if (param && done.length) {
      const c = colors();
      const picker =
        params.length > 1
          ? h(
              'select',
              {
                'aria-label': 'Parameter',
                onchange: (e: Event) => {
                  param = (e.target as HTMLSelectElement).value;
                  draw();
                },
              },
              ...params.map((n) => h('option', { value: n, ...(n === param ? { selected: true } : {}) }, n)),
            )
          : null;
      parts.push(
        section(
          `${d.objective?.metric ?? 'Objective'} against ${param}`,
          picker,
          svg(
            objectiveChartSvg(
              param,
              d.objective?.metric ?? 'objective',
              done.map((t) => ({
                value: Number(t.parameters[param!]),
                objective: t.objective,
                best: t.name === bestName,
              })),
              { width: 640, height: 260, text: c.text, grid: c.grid, color: c.accent },
            ),
            `${done.length} finished trials`,
          ),
        ),
      );
    }
    parts.push(
      section(
        'Trials',
        table(
          ['#', 'Trial', ...params, 'State', d.objective?.metric ?? 'Objective'],
          trials.map((t) => [
            String(t.index),
            t.name === bestName ? h('span', {}, t.name, ' ', h('strong', { class: 'best' }, '★ best')) : t.name,
            ...params.map((n) => String(t.parameters?.[n] ?? '')),
            badge(String(t.status)),
            t.objective === null ? '' : String(t.objective),
          ]),
          (i) => ({ 'data-trial': trials[i].name, ...(trials[i].name === bestName ? { 'data-best': 'true' } : {}) }),
        ),
      ),
    );
    if (d.trials_omitted) parts.push(h('p', { class: 'muted' }, `${d.trials_omitted} more trials not shown`));
    if (ctx.meta.actions.includes('delete_optimization_job')) {
      parts.push(
        section(
          'Actions',
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                'data-action': 'delete_optimization_job',
                onclick: async () => {
                  const a = await ctx.call('delete_optimization_job', ref);
                  if (a.status === 'preview') renderPreview(ctx, 'delete_optimization_job', ref, a, panel);
                  else panel.replaceChildren(outcome(a));
                },
              },
              'Delete',
            ),
          ),
          panel,
        ),
      );
    }
    ctx.root.replaceChildren(...parts.filter((x): x is HTMLElement => !!x));
  }

  draw();
  if (ctx.meta.polls.includes('get_optimization_job') && !ENDED.includes(first.data?.status)) {
    ctx.poll(async () => {
      env = await ctx.call('get_optimization_job', ref);
      draw();
      return env.success === true && !ENDED.includes(env.data?.status);
    });
  }
}
