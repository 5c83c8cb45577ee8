// The MCP App views in real Chromium: a test host built on the SDK's AppBridge (helpers/view-host.ts)
// mounts each ui:// view the server links in tools/list, feeds it a real tool result from the
// sandbox through a real MCP client, and lets it call tools through the host. The sandbox runs on a
// manual clock, so a running fine-tune advances only when the test says. Screenshots go to
// test/artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { EXTENSION_ID, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ManualClock } from '../sandbox/clock.ts';
import { VIEWS, VIEW_OF_TOOL } from '../generated/views.ts';
import { TOOLS } from '../generated/index.ts';
import { UI_EXTENSION, VIEW_MIME, linkTools } from '../runtime/views/links.ts';
import { metricSeries } from '../runtime/views/chart.ts';
import { selectListed, toolsListJson } from '../runtime/listing.ts';
import { toolsListFor } from '../runtime/views/links.ts';
import { readFileSync } from 'node:fs';
import { ROOT } from './helpers/mcp.ts';
import { connectUi, startHost, UI_CAPABILITY, type Host, type Mounted, type UiClient } from './helpers/view-host.ts';

const clock = new ManualClock(Date.parse('2026-03-01T09:00:00Z'));
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 5));
};
async function advance(ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

let sb: Sandbox, host: Host, co: k8s.CustomObjectsApi;
let ds: UiClient, ml: UiClient, ro: UiClient, plain: UiClient, images: UiClient;
const POLL = { KUBEFLOW_MCP_VIEW_POLL_MS: '250', KUBEFLOW_MCP_VIEW_MAX_POLLS: '400' };
const envelope = (r: any) => JSON.parse(r.content[0].text);
const tokens = (v: unknown) => encode(JSON.stringify(v)).length;
const ft = (name: string, extra: Record<string, unknown> = {}) => ({
  model: 'hf://Qwen/Qwen2.5-1.5B',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-qwen2.5-1.5b',
  name,
  ...extra,
});
const jobExists = (name: string) =>
  co
    .getNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
      name,
    })
    .then(
      () => true,
      (e) => {
        if (e.code === 404) return false;
        throw e;
      },
    );
/** What the curve shows: the loss polyline's point count, as the SVG states it. */
const curveCount = (m: Mounted) =>
  m.view
    .locator('polyline[data-series="loss"]')
    .getAttribute('data-count')
    .then(Number)
    .catch(() => 0);
/** The loss points in the log the view last fetched through the host. */
const lastLogCount = (m: Mounted) => {
  const logs = m.calls.filter((c) => c.name === 'get_training_logs').at(-1);
  return logs ? metricSeries(envelope(logs.result).data?.logs ?? '').filter((p) => p.loss !== undefined).length : -1;
};

beforeAll(async () => {
  sb = await startSandbox({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-views-'));
  const kc = join(dir, 'kc');
  writeFileSync(kc, sb.kubeconfig);
  const base = ['--kubeconfig', kc, '--clients', 'trainer,optimizer'];
  [ds, ml, ro, plain, images, host] = await Promise.all([
    connectUi([...base, '--persona', 'data-scientist'], POLL),
    connectUi([...base, '--persona', 'ml-engineer'], POLL),
    connectUi([...base, '--persona', 'readonly'], POLL),
    connectUi([...base, '--persona', 'data-scientist'], {}, false),
    connectUi([...base, '--persona', 'data-scientist'], { KUBEFLOW_MCP_CHART_IMAGES: 'svg' }, false),
    startHost(),
  ]);
  const cfg = new k8s.KubeConfig();
  cfg.loadFromString(sb.kubeconfig);
  co = cfg.makeApiClient(k8s.CustomObjectsApi);
}, 120_000);
afterAll(async () => {
  await Promise.all([ds, ml, ro, plain, images].map((c) => c?.close()));
  await host?.close();
  await sb?.stop();
});

/** Submits a fine-tune (confirmed) and advances the clock until its trainer has logged `points` losses. */
async function runningJob(name: string, points: number) {
  expect(
    envelope(await ml.client.callTool({ name: 'fine_tune', arguments: { ...ft(name), confirmed: true } })).success,
  ).toBe(true);
  for (let i = 0; i < 200; i++) {
    await advance(500);
    const logs = envelope(
      await ml.client.callTool({ name: 'get_training_logs', arguments: { name, tail_lines: 1000 } }),
    );
    if (logs.success && metricSeries(logs.data.logs).filter((p) => p.loss !== undefined).length >= points) return;
  }
  throw new Error(`${name} never logged ${points} losses`);
}

describe('views declared in specs/views.yaml', () => {
  it("link every declared tool to its ui:// resource, with the SDK's extension id and resource type", () => {
    expect(UI_EXTENSION).toBe(EXTENSION_ID);
    expect(VIEW_MIME).toBe(RESOURCE_MIME_TYPE);
    expect(VIEWS.map((v) => v.name).sort()).toEqual(['cluster', 'job', 'optimizer', 'preview']);
    // Every tool that asks for confirmation opens the preview view.
    for (const t of TOOLS.filter((x) => x.confirm))
      expect(VIEW_OF_TOOL[t.name], t.name).toBe('ui://kubeflow-mcp/preview');
    expect(VIEW_OF_TOOL.get_training_job).toBe('ui://kubeflow-mcp/job');
  });

  it('change tools/list only for a client with the extension, by a stated number of tokens', async () => {
    // The first answer comes from the start-up front, the second from the full server: both agree.
    const first = (await plain.client.listTools()).tools;
    const again = (await plain.client.listTools()).tools;
    expect(again).toEqual(first);
    expect(first.some((t) => t._meta)).toBe(false);
    expect((await images.client.listTools()).tools).toEqual(first);
    const withUi = (await ds.client.listTools()).tools;
    expect(withUi).toEqual(linkTools(first as any));
    const linked = withUi.filter((t) => (t._meta as any)?.ui?.resourceUri);
    const extra = tokens({ tools: withUi }) - tokens({ tools: first });
    console.log(
      `tools/list (data-scientist, trainer+optimizer): ${tokens({ tools: first })} o200k tokens without the extension, +${extra} with it (${linked.length} tools linked to views)`,
    );
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThan(linked.length * 20);
    // Resources: the views are listed for the extension's clients only.
    expect((await plain.client.listResources()).resources.some((r) => r.uri.startsWith('ui://'))).toBe(false);
    expect(
      (await ds.client.listResources()).resources.filter((r) => r.uri.startsWith('ui://')).map((r) => r.mimeType),
    ).toEqual(VIEWS.map(() => RESOURCE_MIME_TYPE));
  });
});

describe("the README's tools/list figures for the extension", () => {
  it('are what linking adds per persona (trainer module, and data-scientist with the optimizer)', () => {
    const extra = (persona: string, clients: string[]) => {
      const base = toolsListJson(selectListed({ persona, clients, policy: {} }), 'full');
      expect(toolsListFor(base, {})).toBe(base);
      return encode(toolsListFor(base, UI_CAPABILITY)).length - encode(base).length;
    };
    const [r, d, m, p] = ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin'].map((x) =>
      extra(x, ['trainer']),
    );
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(
      `tools/list grows by ${r} o200k tokens for readonly, ${d} for data-scientist, ${m} for ml-engineer and ${p} for platform-admin (trainer module; ${extra('data-scientist', ['trainer', 'optimizer'])} for data-scientist with the optimizer too)`,
    );
  });
});

describe('job view in Chromium', { timeout: 180_000 }, () => {
  it("shows a running fine-tune's curve growing as the host polls", async () => {
    await runningJob('curve', 3);
    const m = await host.open(ds.client, { tool: 'get_training_job', args: { name: 'curve' } });
    await expect.poll(() => m.calls.filter((c) => c.name === 'get_training_logs').length).toBeGreaterThan(0);
    await expect
      .poll(async () => (await curveCount(m)) === lastLogCount(m) && lastLogCount(m) > 0, { timeout: 10_000 })
      .toBe(true);
    const before = await curveCount(m);
    await m.shot('job-running-1');
    await advance(4000);
    await expect
      .poll(
        async () => {
          const n = await curveCount(m);
          return n > before && n === lastLogCount(m);
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const after = await curveCount(m);
    await advance(4000);
    await expect
      .poll(
        async () => {
          const n = await curveCount(m);
          return n > after && n === lastLogCount(m);
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    console.log(
      `job view curve: ${before} -> ${after} -> ${await curveCount(m)} points over three polls of a running fine-tune`,
    );
    await expect.poll(() => m.view.getByTestId('progress').count()).toBe(1);
    expect(await m.view.getByTestId('log-tail').textContent()).toMatch(/loss/i);
    expect(await m.view.locator('tr[data-step]').count()).toBeGreaterThan(0);
    await m.shot('job-running-2');
    await m.page.close();
  });

  it('offers a readonly caller no mutating action, and an ml-engineer its job actions', async () => {
    const r = await host.open(ro.client, { tool: 'get_training_job', args: { name: 'curve' } });
    expect(r.result._meta['kubeflow-mcp/view'].actions).toEqual([]);
    await expect.poll(() => r.view.locator('polyline[data-series="loss"]').count()).toBe(1);
    expect(await r.view.locator('button').count()).toBe(0);
    await r.shot('job-readonly');
    await r.page.close();
    const e = await host.open(ml.client, { tool: 'get_training_job', args: { name: 'curve' } });
    expect(e.result._meta['kubeflow-mcp/view'].actions.sort()).toEqual(['delete_training_job', 'update_training_job']);
    await expect.poll(() => e.view.locator('button[data-action]').count()).toBe(2);
    // An action goes through its tool's preview: Cancel there changes nothing.
    await e.view.locator('button[data-action="update_training_job"]').click();
    await e.view.getByTestId('cancel').click();
    expect(e.calls.filter((c) => c.name === 'update_training_job').map((c) => c.arguments.confirmed)).toEqual([
      undefined,
    ]);
    await e.page.close();
  });

  it("shows a failed job's step, the diagnosis and the fix", async () => {
    expect(
      envelope(await ml.client.callTool({ name: 'fine_tune', arguments: { ...ft('oom'), confirmed: true } })).success,
    ).toBe(true);
    await co.patchNamespacedCustomObject(
      {
        group: 'trainer.kubeflow.org',
        version: 'v1alpha1',
        plural: 'trainjobs',
        namespace: 'default',
        name: 'oom',
        body: { metadata: { annotations: { 'sandbox.kubeflow-mcp.dev/outcome': 'oom' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    for (
      let i = 0;
      i < 200 &&
      envelope(await ml.client.callTool({ name: 'get_training_job', arguments: { name: 'oom' } })).data.status !==
        'Failed';
      i++
    )
      await advance(1000);
    const m = await host.open(ds.client, { tool: 'get_training_job', args: { name: 'oom' } });
    const failed = envelope(m.result).data.steps.find((s: any) => s.status === 'Failed').name;
    await expect.poll(() => m.view.getByTestId('failed-step').textContent()).toBe(failed);
    await expect.poll(() => m.view.getByTestId('diagnosis').textContent()).toMatch(/OOM/);
    const logs = envelope(m.calls.filter((c) => c.name === 'get_training_logs').at(-1)!.result).data;
    expect(logs.fix).toBeTruthy();
    expect(await m.view.getByTestId('fix').textContent()).toContain(logs.fix.tool);
    await m.shot('job-failed');
    await m.page.close();
  });
});

describe('preview view in Chromium', { timeout: 120_000 }, () => {
  it('Approve calls the tool again with confirmed=true, and the job exists', async () => {
    const m = await host.open(ds.client, { tool: 'fine_tune', args: ft('approved') });
    expect(envelope(m.result).status).toBe('preview');
    await expect.poll(() => m.view.getByTestId('preview-message').textContent()).toContain('confirmed=true');
    expect(await m.view.getByText('hf://Qwen/Qwen2.5-1.5B').count()).toBeGreaterThan(0);
    await m.shot('preview-fine-tune');
    expect(await jobExists('approved')).toBe(false);
    await m.view.getByTestId('approve').click();
    await expect.poll(() => m.view.getByTestId('outcome').textContent()).toContain('approved');
    expect(m.calls.map((c) => [c.name, c.arguments.confirmed])).toEqual([['fine_tune', true]]);
    expect(m.calls[0].arguments).toEqual({ ...ft('approved'), confirmed: true });
    expect(await jobExists('approved')).toBe(true);
    await m.shot('preview-approved');
    await m.page.close();
  });

  it('Cancel calls nothing and creates nothing', async () => {
    const m = await host.open(ds.client, { tool: 'fine_tune', args: ft('cancelled') });
    await m.view.getByTestId('cancel').click();
    await expect.poll(() => m.view.getByTestId('outcome').textContent()).toContain('nothing was changed');
    expect(m.calls).toEqual([]);
    expect(await jobExists('cancelled')).toBe(false);
    await m.page.close();
  });
});

describe('cluster and optimizer views in Chromium', { timeout: 180_000 }, () => {
  it("shows nodes and GPUs by vendor at a narrow width, in the host's dark theme", async () => {
    const m = await host.open(ds.client, {
      tool: 'get_cluster_resources',
      args: {},
      width: 360,
      theme: 'dark',
      variables: { '--color-background-primary': '#101820' },
    });
    const data = envelope(m.result).data;
    await expect.poll(() => m.view.locator('tr[data-node]').count()).toBe(data.nodes.length);
    expect(
      (
        await m.view.locator('tr[data-vendor]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-vendor')))
      ).sort(),
    ).toEqual(
      Object.values<any>(data.accelerators)
        .map((a) => a.vendor)
        .sort(),
    );
    expect(await m.view.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(16, 24, 32)');
    expect(await m.view.locator('html').getAttribute('data-theme')).toBe('dark');
    // Narrow: the page itself does not scroll sideways (wide tables scroll inside their box).
    expect(await m.view.locator('body').evaluate((b) => b.scrollWidth <= b.clientWidth + 1)).toBe(true);
    await m.shot('cluster-narrow-dark');
    await m.page.close();
  });

  it("shows a search's trials and the objective against a parameter, the best marked", async () => {
    const request = {
      base_tool: 'fine_tune',
      base_args: {
        model: 'hf://Qwen/Qwen2.5-1.5B',
        dataset: 'hf://tatsu-lab/alpaca',
        runtime: 'torchtune-qwen2.5-1.5b',
      },
      parameters: [{ name: 'learning_rate', values: [1e-5, 1e-4, 1e-3] }],
      algorithm: 'grid',
      num_trials: 3,
      parallel_trials: 3,
      objective_metric: 'loss',
      objective_direction: 'minimize',
      name: 'sweep',
    };
    expect(
      envelope(await ds.client.callTool({ name: 'optimize', arguments: { ...request, confirmed: true } })).success,
    ).toBe(true);
    for (let i = 0; i < 300; i++) {
      const d = envelope(await ds.client.callTool({ name: 'get_optimization_job', arguments: { name: 'sweep' } })).data;
      if (d?.status === 'Complete') break;
      await advance(1000);
    }
    const m = await host.open(ds.client, { tool: 'get_optimization_job', args: { name: 'sweep' } });
    const d = envelope(m.result).data;
    expect(d.status).toBe('Complete');
    await expect.poll(() => m.view.locator('tr[data-trial]').count()).toBe(d.trials.length);
    expect(await m.view.locator('tr[data-best]').getAttribute('data-trial')).toBe(d.best.name);
    expect(Number(await m.view.locator('g[data-series="learning_rate"]').getAttribute('data-count'))).toBe(
      d.trials.filter((t: any) => t.objective !== null).length,
    );
    expect(await m.view.locator('circle[data-marked]').count()).toBe(1);
    await m.shot('optimizer');
    await m.page.close();
  });
});

describe('clients without the extension', { timeout: 60_000 }, () => {
  it('get the curve as an SVG image block only when KUBEFLOW_MCP_CHART_IMAGES=svg', async () => {
    const off = (await plain.client.callTool({ name: 'get_training_job', arguments: { name: 'curve' } })) as any;
    expect(off.content.map((c: any) => c.type)).toEqual(['text']);
    expect(off._meta).toBeUndefined();
    const on = (await images.client.callTool({ name: 'get_training_job', arguments: { name: 'curve' } })) as any;
    const image = on.content.find((c: any) => c.type === 'image');
    expect(image.mimeType).toBe('image/svg+xml');
    const svg = Buffer.from(image.data, 'base64').toString('utf8');
    const logs = envelope(
      await images.client.callTool({
        name: 'get_training_logs',
        arguments: { name: 'curve', tail_lines: 1000, max_bytes: 262_144 },
      }),
    ).data.logs;
    expect(Number(/data-series="loss" data-count="(\d+)"/.exec(svg)![1])).toBe(
      metricSeries(logs).filter((p) => p.loss !== undefined).length,
    );
    const hpo = (await images.client.callTool({ name: 'get_optimization_job', arguments: { name: 'sweep' } })) as any;
    expect(hpo.content.some((c: any) => c.type === 'image')).toBe(true);
  });
});
