// The preview view: what a mutating tool will create or change, in sections a person can read,
// with Approve and Cancel. Approve calls the same tool again with the same arguments and
// confirmed=true, the confirmation the server asks for; the server still decides (it may ask the
// user itself through the host, or refuse confirmed=true by policy). Cancel calls nothing.
import { facts, h, section, table } from './dom.ts';
import type { Ctx, Envelope } from './host.ts';

const list = (items: unknown) =>
  Array.isArray(items) && items.length
    ? h('ul', {}, ...items.map((i) => h('li', {}, typeof i === 'string' ? i : JSON.stringify(i))))
    : null;
const text = (v: unknown) =>
  v === undefined || v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** A TrainJob as sections: what, where, how big, from which data. */
function trainJobSections(job: Record<string, any>): HTMLElement[] {
  const spec = job.spec ?? {},
    trainer = spec.trainer ?? {},
    init = spec.initializer ?? {};
  const res = trainer.resourcesPerNode?.limits ?? trainer.resourcesPerNode?.requests ?? {};
  return [
    section(
      'TrainJob',
      facts([
        ['Name', job.metadata?.name],
        ['Namespace', job.metadata?.namespace],
        ['Runtime', text(spec.runtimeRef?.name)],
        ['Nodes', text(trainer.numNodes)],
      ]),
    ),
    section(
      'Trainer',
      facts([
        ['Image', trainer.image],
        ['Command', text(trainer.command?.join?.(' '))],
        ['Arguments', text(trainer.args?.join?.(' '))],
        ['Environment', text((trainer.env ?? []).map((e: any) => e.name).join(', '))],
      ]),
    ),
    section(
      'Resources per node',
      Object.keys(res).length
        ? table(
            ['Resource', 'Amount'],
            Object.entries(res).map(([k, v]) => [k, String(v)]),
          )
        : h('p', {}, 'Runtime defaults'),
    ),
    section(
      'Data',
      facts([
        ['Model', init.model?.storageUri],
        ['Dataset', init.dataset?.storageUri],
      ]),
    ),
  ];
}

/** Any other config: its plain fields as facts, nested ones folded. */
function genericSections(config: Record<string, any>): HTMLElement[] {
  const plain = Object.entries(config).filter(([k, v]) => k !== 'warnings' && (v === null || typeof v !== 'object'));
  const nested = Object.entries(config).filter(
    ([k, v]) => k !== 'warnings' && k !== 'trainjob' && v && typeof v === 'object',
  );
  return [
    ...(plain.length ? [section('Change', facts(plain.map(([k, v]) => [k, String(v)])))] : []),
    ...nested.map(([k, v]) => h('details', {}, h('summary', {}, k), h('pre', {}, JSON.stringify(v, null, 2)))),
  ];
}

/** The answer to Approve, as a person reads it. */
export function outcome(env: Envelope): HTMLElement {
  if (env.success === true && env.status !== 'preview') {
    const d = env.data ?? {};
    return h(
      'div',
      { class: 'notice ok', 'data-testid': 'outcome' },
      d.message ?? 'Done',
      d.job_name ? h('p', {}, `Job: ${d.job_name}`) : null,
    );
  }
  if (env.status === 'preview')
    return h(
      'div',
      { class: 'notice warn', 'data-testid': 'outcome' },
      'The server asked again: it did not take the confirmation.',
      h('p', {}, env.message ?? ''),
    );
  return h(
    'div',
    { class: 'notice err', 'data-testid': 'outcome' },
    env.error ?? 'Failed',
    env.hint ? h('p', {}, env.hint) : null,
  );
}

/** Renders a preview of `tool` called with `args` into `into`; `done` runs after Approve or Cancel. */
export function renderPreview(
  ctx: Ctx,
  tool: string,
  args: Record<string, unknown>,
  env: Envelope,
  into: HTMLElement,
  done?: (approved: boolean) => void,
) {
  const config: Record<string, any> = env.config ?? {};
  const parts: Array<HTMLElement | null> = [
    h('p', { class: 'lead', 'data-testid': 'preview-message' }, env.message ?? ''),
  ];
  if (config.trainjob) parts.push(...trainJobSections(config.trainjob));
  parts.push(...genericSections(config));
  const warnings = config.warnings ?? config.trainjob?.warnings;
  if (Array.isArray(warnings) && warnings.length)
    parts.push(section('Warnings', h('div', { class: 'notice warn' }, list(warnings))));
  if (env.more_options && Object.keys(env.more_options).length)
    parts.push(
      section(
        'More options',
        table(
          ['Input', 'Type'],
          Object.entries(env.more_options).map(([k, v]) => [k, String(v)]),
        ),
      ),
    );
  const status = h('div', { 'aria-live': 'polite' });
  // Approve only when the server says this caller may call the tool.
  if (ctx.meta.actions.includes(tool)) {
    const approve = h('button', { class: 'primary', 'data-testid': 'approve' }, 'Approve');
    const cancel = h('button', { 'data-testid': 'cancel' }, 'Cancel');
    approve.addEventListener('click', async () => {
      approve.disabled = cancel.disabled = true;
      status.replaceChildren(h('p', {}, 'Submitting…'));
      const answer = await ctx.call(tool, { ...args, confirmed: true });
      status.replaceChildren(outcome(answer));
      actions.remove();
      done?.(answer.success === true && answer.status !== 'preview');
    });
    cancel.addEventListener('click', () => {
      status.replaceChildren(
        h('div', { class: 'notice', 'data-testid': 'outcome' }, 'Cancelled: nothing was changed.'),
      );
      actions.remove();
      done?.(false);
    });
    const actions = h('div', { class: 'actions' }, approve, cancel);
    parts.push(actions);
  }
  parts.push(status);
  into.replaceChildren(...parts.filter((p): p is HTMLElement => !!p));
}

export function previewView(ctx: Ctx, env: Envelope) {
  const body = h('div', {});
  ctx.root.replaceChildren(h('h1', {}, ctx.tool.replace(/_/g, ' ')), body);
  if (env.status === 'preview') renderPreview(ctx, ctx.tool, ctx.args, env, body);
  else body.replaceChildren(outcome(env));
}
