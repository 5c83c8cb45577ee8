// The hub module (Kubeflow Hub, the model registry) through a real MCP client on the sandbox:
// fine-tune -> wait -> register the result (preview, then confirm) -> list and get it -> update
// its metadata -> archive it; a readonly caller reads and cannot register; every request the
// sandbox registry received and every answer it gave conforms to the registry's OpenAPI
// document; kubectl's raw view through the service proxy shows what the tools report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOLS } from '../generated/index.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { modelRegistryOf, registryValidator } from '../sandbox/model-registry.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, ds: Connected, ro: Connected, kc: string;
const RAW = '/api/v1/namespaces/kubeflow/services/model-registry-service:8080/proxy/api/model_registry/v1alpha3/registered_models';
const HUB_TOOLS = TOOLS.filter((t) => t.module === 'hub');

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-hub-'));
  kc = join(dir, 'kc');
  writeFileSync(kc, sb.kubeconfig);
  ds = await connect(['--kubeconfig', kc, '--persona', 'data-scientist', '--clients', 'trainer,hub']);
  ro = await connect(['--kubeconfig', kc, '--persona', 'readonly', '--clients', 'trainer,hub']);
}, 120_000);
afterAll(async () => { await ds?.close(); await ro?.close(); await sb?.stop(); });

describe('the hub module', () => {
  it('lists its tools for each persona as the training tools are', async () => {
    const names = async (c: Connected) => (await c.client.listTools()).tools.map((t) => t.name).filter((n) => HUB_TOOLS.some((t) => t.name === n)).sort();
    expect(await names(ds)).toEqual(HUB_TOOLS.map((t) => t.name).sort());
    expect(await names(ro)).toEqual(['get_model', 'list_model_versions', 'list_models']);
  });

  it('runs every example of the hub tools', async () => {
    for (const tool of HUB_TOOLS) for (const ex of tool.examples) {
      const r = await call(ds.client, tool.name, ex.input);
      if (ex.error) expect(r.error_code, `${tool.name}: ${ex.title}`).toBe(ex.error);
      else expect(r.isError, `${tool.name}: ${ex.title}: ${JSON.stringify(r)}`).toBeFalsy();
    }
  });

  it('fine-tunes, registers the result (preview, confirm), lists, gets, updates and archives it', async () => {
    const args = { model: 'hf://meta-llama/Llama-3.2-1B-Instruct', dataset: 'hf://tatsu-lab/alpaca', runtime: 'torchtune-llama3.2-1b', hf_token: 'hf_HubTestToken123', name: 'llama-support' };
    expect((await call(ds.client, 'fine_tune', { ...args, confirmed: true })).isError).toBeFalsy();
    // Not yet finished: registration waits for a Complete job.
    const early = await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', job: 'llama-support' });
    if (early.error_code) expect(early.error).toContain('only a Complete job');
    const done = await call(ds.client, 'wait_for_training', { name: 'llama-support', timeout_seconds: 120, polling_interval: 0.1 });
    expect(done.data.status).toBe('Complete');

    const before = modelRegistryOf(sb.store)!.exchanges.filter((e) => e.method !== 'GET').length;
    const preview = await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', job: 'llama-support', properties: { team: 'nlp' } });
    expect(preview.status).toBe('preview');
    expect(preview.config).toMatchObject({ model: 'support-bot', new_model: true, version: 'v1', uri: 'pvc://initializer-llama-support/output', model_format: 'safetensors' });
    expect(preview.config.properties).toMatchObject({ trainjob: { string_value: 'llama-support' }, base_model: { string_value: args.model }, dataset: { string_value: args.dataset }, runtime: { string_value: 'torchtune-llama3.2-1b' }, team: { string_value: 'nlp' } });
    // The preview wrote nothing to the registry.
    expect(modelRegistryOf(sb.store)!.exchanges.filter((e) => e.method !== 'GET').length).toBe(before);
    expect((await call(ds.client, 'list_models', {})).data.count).toBe(0);

    const reg = await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', job: 'llama-support', properties: { team: 'nlp' }, confirmed: true });
    expect(reg.isError, JSON.stringify(reg)).toBeFalsy();
    expect(reg.data).toMatchObject({ model: 'support-bot', version: 'v1', uri: 'pvc://initializer-llama-support/output' });
    expect(reg.data.version_id).toMatch(/^\d+$/);
    expect((await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', uri: 's3://x/y' })).error_code).toBe('ALREADY_EXISTS');
    // A second version of the same model, from a URI.
    expect((await call(ds.client, 'register_model', { name: 'support-bot', version: 'v2', uri: 's3://models/support-bot/v2', confirmed: true })).data.model_id).toBe(reg.data.model_id);

    const listed = await call(ds.client, 'list_models', {});
    expect(listed.data.models.map((m: any) => m.name)).toEqual(['support-bot']);
    expect((await call(ds.client, 'list_models', { property: 'team=nlp' })).data.count).toBe(0); // the property sits on the version
    expect((await call(ds.client, 'list_models', { name: 'support' })).data.count).toBe(1);

    const got = await call(ro.client, 'get_model', { name: 'support-bot' });
    expect(got.data.versions.map((v: any) => v.name)).toEqual(['v2', 'v1']);
    const v1 = got.data.versions.find((v: any) => v.name === 'v1');
    expect(v1).toMatchObject({ trainjob: 'llama-support', state: 'LIVE' });
    expect(v1.artifacts).toEqual([expect.objectContaining({ uri: 'pvc://initializer-llama-support/output', format: 'safetensors' })]);
    expect((await call(ro.client, 'list_model_versions', { name: 'support-bot' })).data.count).toBe(2);

    // kubectl, through the same service proxy, sees what the tools report.
    if (hasKubectl) {
      const { kubectl } = kubectlWith(kc);
      const raw = JSON.parse(await kubectl('get', '--raw', RAW));
      expect(raw.items.map((m: any) => [m.id, m.name, m.state])).toEqual(listed.data.models.map((m: any) => [m.id, m.name, m.state]));
      expect(registryValidator().response('GET', '/registered_models', 200, raw)).toEqual([]);
    }

    const upd = await call(ds.client, 'update_model_metadata', { name: 'support-bot', description: 'the support assistant', properties: { stage: 'production' } });
    expect(upd.status).toBe('preview');
    expect((await call(ds.client, 'update_model_metadata', { name: 'support-bot', description: 'the support assistant', properties: { stage: 'production' }, confirmed: true })).data.description).toBe('the support assistant');
    expect((await call(ds.client, 'list_models', { property: 'stage=production' })).data.count).toBe(1);

    const av = await call(ds.client, 'archive_model_version', { name: 'support-bot', version: 'v1' });
    expect(av.config).toMatchObject({ state_before: 'LIVE', state_after: 'ARCHIVED' });
    expect((await call(ds.client, 'archive_model_version', { name: 'support-bot', version: 'v1', confirmed: true })).data.state).toBe('ARCHIVED');
    expect((await call(ds.client, 'list_model_versions', { name: 'support-bot', state: 'LIVE' })).data.versions.map((v: any) => v.name)).toEqual(['v2']);
    expect((await call(ds.client, 'archive_model', { name: 'support-bot', confirmed: true })).data.state).toBe('ARCHIVED');
    expect((await call(ds.client, 'list_models', {})).data.count).toBe(0);
    expect((await call(ds.client, 'list_models', { state: 'ARCHIVED' })).data.models.map((m: any) => m.name)).toEqual(['support-bot']);
  }, 240_000);

  it('lets a readonly caller read and not register', async () => {
    expect((await call(ro.client, 'list_models', { state: 'ALL' })).isError).toBeFalsy();
    const r: any = await ro.client.callTool({ name: 'register_model', arguments: { name: 'x', version: 'v1', uri: 's3://a/b', confirmed: true } });
    expect(r.isError).toBe(true);
  });

  it('answers through services/proxy only as RBAC allows', async () => {
    const res = await fetch(`${sb.url}${RAW}`, { headers: { Authorization: 'Bearer nobody' } });
    expect([401, 403]).toContain(res.status);
  });

  it('received only requests, and gave only answers, that the OpenAPI document allows', () => {
    const v = registryValidator();
    const seen = modelRegistryOf(sb.store)!.exchanges;
    expect(seen.length).toBeGreaterThan(10);
    for (const e of seen) {
      expect(v.request(e.method, e.path, new URLSearchParams(e.query), e.body), `${e.method} ${e.path}?${e.query}`).toEqual([]);
      expect(v.response(e.method, e.path, e.status, e.answer), `${e.method} ${e.path} ${e.status}`).toEqual([]);
    }
  });
});
