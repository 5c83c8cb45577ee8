// One sandbox for a session of separate processes (`serve --sandbox --sandbox-state FILE`): the
// first server starts it in the background, a second joins it, kubectl reaches it between them,
// and after it stops its state (jobs, the model registry's entities) comes back from the file.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, connect, type Connected } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

const dir = mkdtempSync(join(tmpdir(), 'kfmcp-state-'));
const state = join(dir, 'session.json');
const lock = () =>
  JSON.parse(readFileSync(`${state}.lock`, 'utf8')) as { pid: number; url: string; kubeconfig: string };
const serve = () =>
  connect([
    '--sandbox',
    '--sandbox-state',
    state,
    '--time-scale',
    '0.05',
    '--persona',
    'platform-admin',
    '--clients',
    'trainer,hub',
  ]);
const daemons = new Set<number>();
const open: Connected[] = [];
// Starting a server and, the first time, its sandbox in the background takes a while on a busy machine.
const SLOW = { timeout: 180_000 };

async function stopDaemon(pid: number) {
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && existsSync(`${state}.lock`); i++) await new Promise((r) => setTimeout(r, 100));
  daemons.delete(pid);
}

afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  for (const pid of daemons) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
});

const REGISTRY = '/api/v1/namespaces/kubeflow/services/model-registry-service:8080/proxy/api/model_registry/v1alpha3';

describe.skipIf(!hasKubectl)('a sandbox shared through its state file', () => {
  it('is started by the first server, joined by the second, reached by kubectl, and kept across a restart', async () => {
    const a = await serve();
    open.push(a);
    expect((await call(a.client, 'list_training_jobs', {}, SLOW)).success).toBe(true);
    const first = lock();
    daemons.add(first.pid);
    expect(first.pid).not.toBe(process.pid);
    writeFileSync(join(dir, 'kc'), first.kubeconfig);
    const { kubectl } = kubectlWith(join(dir, 'kc'));
    writeFileSync(
      join(dir, 'job.yaml'),
      'apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: shared-job, namespace: default}\nspec:\n  runtimeRef: {name: torch-distributed}\n  trainer: {numNodes: 1}\n',
    );
    expect(await kubectl('apply', '-f', join(dir, 'job.yaml'))).toContain(
      'trainjob.trainer.kubeflow.org/shared-job created',
    );
    const registered = await fetch(`${first.url}${REGISTRY}/registered_models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kept-model', owner: 'ml-team' }),
    });
    expect(registered.status).toBe(201);

    // A second server process joins the same cluster instead of starting another.
    const b = await serve();
    open.push(b);
    const job = await call(b.client, 'get_training_job', { name: 'shared-job' }, SLOW);
    expect(job.success).toBe(true);
    expect(lock().pid).toBe(first.pid);
    expect((await call(b.client, 'list_models', {}, SLOW)).data.models.map((m: any) => m.name)).toContain('kept-model');

    // Both servers gone: the cluster stays for the next process of the session.
    await a.close();
    await b.close();
    expect(await kubectl('get', 'trainjobs', '-o', 'name')).toContain('trainjob.trainer.kubeflow.org/shared-job');

    // Stopped, it leaves its state in the file; the next server starts it again from there.
    await stopDaemon(first.pid);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.items.some((o: any) => o.kind === 'TrainJob' && o.metadata.name === 'shared-job')).toBe(true);
    const c = await serve();
    open.push(c);
    const again = await call(c.client, 'get_training_job', { name: 'shared-job' }, SLOW);
    expect(again.success).toBe(true);
    const second = lock();
    daemons.add(second.pid);
    expect(second.pid).not.toBe(first.pid);
    expect((await call(c.client, 'list_models', {}, SLOW)).data.models.map((m: any) => m.name)).toContain('kept-model');
    await c.close();
    await stopDaemon(second.pid);
  }, 600_000);

  it('refuses --sandbox-state without --sandbox', async () => {
    await expect(connect(['--sandbox-state', state])).rejects.toThrow();
  }, 120_000);
});
