// The contributor guide (specs/README.md), followed as written in a copy of the project: its two
// YAML tools are added, `npm run gen` accepts them, the bin serves them without a manual build, and
// they work through a real MCP client against the sandbox (the change checked over the API).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyProject } from './helpers/project-copy.ts';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EXAMPLES_FIXTURE } from '../generated/index.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { claimFixtureJobs } from './helpers/ownership.ts';

const ROOT = join(import.meta.dirname, '..');
let copy: string, sb: Sandbox, kc: string;
const clients: Client[] = [];

/** The YAML blocks of the guide that are tool specs, by tool name. */
function guideTools(): Map<string, string> {
  const text = readFileSync(join(ROOT, 'specs', 'README.md'), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  return new Map(blocks.filter((b) => /^name: \w+/m.test(b)).map((b) => [b.match(/^name: (\w+)/m)![1], b]));
}

async function serve(persona: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(copy, 'bin', 'kubeflow-mcp.mjs'), 'serve', '--no-banner', '--kubeconfig', kc, '--persona', persona],
    env: { ...(process.env as Record<string, string>), HOME: '/nonexistent-home' },
    stderr: 'pipe',
  });
  const c = new Client({ name: 'guide-test', version: '1.0.0' });
  await c.connect(transport);
  clients.push(c);
  return c;
}
const call = async (c: Client, name: string, args: Record<string, unknown>) =>
  ((await c.callTool({ name, arguments: args })) as any).structuredContent;

beforeAll(async () => {
  copy = copyProject('kfmcp-guide-');
  sb = await startSandbox({ timeScale: 0.02, objects: structuredClone(EXAMPLES_FIXTURE) });
  await claimFixtureJobs(sb.kubeconfig);
  kc = join(copy, 'kc');
  writeFileSync(kc, sb.kubeconfig);
}, 60_000);
afterAll(async () => {
  for (const c of clients) await c.close();
  await sb?.stop();
});

describe('the contributor guide, followed as written', () => {
  it('adds a read tool and a guarded mutating tool with YAML only', async () => {
    const tools = guideTools();
    expect([...tools.keys()]).toEqual(['list_job_pods', 'label_training_job']);
    for (const [name, yaml] of tools) writeFileSync(join(copy, 'specs', 'tools', `${name}.yaml`), yaml);
    // As the guide says: two more tools cost tokens; raise the budgets on purpose.
    const budgets = join(copy, 'specs', 'budgets.yaml');
    writeFileSync(
      budgets,
      readFileSync(budgets, 'utf8').replace(/^(  [a-z-]+): (\d+)$/gm, (_m, k, n) => `${k}: ${Number(n) + 500}`),
    );
    const out = execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'generator/cli.ts'],
      { cwd: copy, encoding: 'utf8' },
    );
    expect(out).toContain('gen: wrote');
    expect(existsSync(join(copy, 'dist'))).toBe(false);

    // The bin builds the bundle itself; the new tools are served at once.
    const ds = await serve('data-scientist');
    const names = (await ds.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['list_job_pods', 'label_training_job']));
    expect(ds.getInstructions()).not.toContain('label_training_job'); // not in an instructions section yet

    const pods = await call(ds, 'list_job_pods', { name: 'demo' });
    expect(pods.success).toBe(true);
    const cfg = new k8s.KubeConfig();
    cfg.loadFromString(sb.kubeconfig);
    const real = await cfg
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedPod({ namespace: 'default', labelSelector: 'jobset.sigs.k8s.io/jobset-name=demo' });
    expect(pods.data.count).toBe(real.items.length);
    expect(pods.data.pods.map((p: any) => p.name).sort()).toEqual(real.items.map((p) => p.metadata!.name).sort());
    expect((await call(ds, 'list_job_pods', { name: 'nope' })).error_code).toBe('RESOURCE_NOT_FOUND');

    const jobs = cfg.makeApiClient(k8s.CustomObjectsApi);
    const labels = async (name: string) =>
      (
        (await jobs.getNamespacedCustomObject({
          group: 'trainer.kubeflow.org',
          version: 'v1alpha1',
          plural: 'trainjobs',
          namespace: 'default',
          name,
        })) as any
      ).metadata.labels ?? {};
    const preview = await call(ds, 'label_training_job', { name: 'demo', labels: { team: 'nlp' } });
    expect(preview).toMatchObject({
      status: 'preview',
      config: { labels_after: { team: 'nlp', 'kubeflow-mcp/managed-by': 'mcp' } },
    });
    expect((await labels('demo')).team).toBeUndefined();
    const done = await call(ds, 'label_training_job', { name: 'demo', labels: { team: 'nlp' }, confirmed: true });
    expect(done).toMatchObject({ success: true, data: { job: 'demo', labels: { team: 'nlp' } } });
    expect(await labels('demo')).toMatchObject({ team: 'nlp', 'kubeflow-mcp/managed-by': 'mcp' });
    // The guard and the fail step hold: no foreign job, no rewriting the ownership label.
    expect(
      (await call(ds, 'label_training_job', { name: 'foreign', labels: { team: 'x' }, confirmed: true })).error_code,
    ).toBe('PERMISSION_DENIED');
    expect(
      (
        await call(ds, 'label_training_job', {
          name: 'demo',
          labels: { 'kubeflow-mcp/managed-by': 'me' },
          confirmed: true,
        })
      ).error_code,
    ).toBe('VALIDATION_ERROR');
    expect((await labels('foreign')).team).toBeUndefined();
    expect((await labels('demo'))['kubeflow-mcp/managed-by']).toBe('mcp');

    // A readonly caller sees the read tool and not the mutating one.
    const ro = await serve('readonly');
    const roNames = (await ro.listTools()).tools.map((t) => t.name);
    expect(roNames).toContain('list_job_pods');
    expect(roNames).not.toContain('label_training_job');
    expect(readFileSync(join(copy, 'generated', 'rbac', 'data-scientist.yaml'), 'utf8')).toMatch(
      /- trainjobs\n\s+verbs:\n(\s+- \w+\n)*\s+- patch/,
    );
  }, 120_000);
});
