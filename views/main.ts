// The one page behind every ui://kubeflow-mcp/<view> resource: the server marks which view it is
// on <html data-view>, the host hands it the tool's arguments and result, and the view renders
// them, following the host's theme. Everything it needs is inlined by scripts/build.mjs.
import { App } from '@modelcontextprotocol/ext-apps/app-with-deps';
import { clusterView } from './cluster.ts';
import { h } from './dom.ts';
import { envelopeOf, makeCtx, metaOf } from './host.ts';
import { jobView } from './job.ts';
import { optimizerView } from './optimizer.ts';
import { previewView } from './preview.ts';
import { applyTheme } from './theme.ts';

const VIEWS = { job: jobView, preview: previewView, cluster: clusterView, optimizer: optimizerView } as const;

const root = document.getElementById('app')!;
const which = (document.documentElement.dataset.view ?? '') as keyof typeof VIEWS;
const app = new App({ name: 'kubeflow-mcp-views', version: '1.0.0' }, {}, { autoResize: true });
let args: Record<string, unknown> = {};

app.ontoolinput = (p) => {
  args = (p.arguments ?? {}) as Record<string, unknown>;
};
app.ontoolresult = (result) => {
  const tool = app.getHostContext()?.toolInfo?.tool.name ?? '';
  const meta = metaOf(result as any, tool);
  const view = VIEWS[which] ?? VIEWS[meta.view as keyof typeof VIEWS];
  const ctx = makeCtx(app, meta.tool, args, meta, root);
  if (!view) {
    root.replaceChildren(h('p', {}, `Unknown view ${which}`));
    return;
  }
  view(ctx, envelopeOf(result as any));
};
app.ontoolcancelled = () => {
  root.replaceChildren(h('p', { class: 'muted' }, 'The call was cancelled.'));
};
app.onhostcontextchanged = (c) => applyTheme(c);

await app.connect();
applyTheme(app.getHostContext());
