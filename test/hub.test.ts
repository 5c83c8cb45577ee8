// The hub module (Kubeflow Hub, the model registry) through a real MCP client on the sandbox:
// fine-tune -> wait -> register the result (preview, then confirm) -> list and get it -> fine-tune
// again from the registered version (and search hyperparameters from it) -> update its metadata
// -> archive it; a readonly caller reads and cannot register or train; every request the sandbox
// registry received and every answer it gave conforms to the registry's OpenAPI document;
// kubectl's raw view through the service proxy shows what the tools report. Then how the
// registry is reached: its Service found by labels (or a clear error), and a registry outside the
// cluster (--hub-url, a real HTTP server here) with its token from a file or a Secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOLS } from '../generated/index.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { modelRegistryOf, registryValidator, REGISTRY_BASE } from '../sandbox/model-registry.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { BIN, call, connect, type Connected } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, ds: Connected, ro: Connected, kc: string;
const RAW =
  '/api/v1/namespaces/kubeflow/services/model-registry-service:8080/proxy/api/model_registry/v1alpha3/registered_models';
const HUB_TOOLS = TOOLS.filter((t) => t.module === 'hub');
const trainjobs = typeNamed('trainjobs');
const services = typeNamed('services');
const secrets = typeNamed('secrets');

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-hub-'));
  kc = join(dir, 'kc');
  writeFileSync(kc, sb.kubeconfig);
  ds = await connect(['--kubeconfig', kc, '--persona', 'data-scientist', '--clients', 'trainer,optimizer,hub']);
  ro = await connect(['--kubeconfig', kc, '--persona', 'readonly', '--clients', 'trainer,optimizer,hub']);
}, 120_000);
afterAll(async () => {
  await ds?.close();
  await ro?.close();
  await sb?.stop();
});

describe('the hub module', () => {
  it('lists its tools for each persona as the training tools are', async () => {
    const names = async (c: Connected) =>
      (await c.client.listTools()).tools
        .map((t) => t.name)
        .filter((n) => HUB_TOOLS.some((t) => t.name === n))
        .sort();
    expect(await names(ds)).toEqual(HUB_TOOLS.map((t) => t.name).sort());
    expect(await names(ro)).toEqual(['get_model', 'list_model_versions', 'list_models']);
  });

  it('runs every example of the hub tools', async () => {
    for (const tool of HUB_TOOLS)
      for (const ex of tool.examples) {
        const r = await call(ds.client, tool.name, ex.input);
        if (ex.error) expect(r.error_code, `${tool.name}: ${ex.title}`).toBe(ex.error);
        else expect(r.isError, `${tool.name}: ${ex.title}: ${JSON.stringify(r)}`).toBeFalsy();
      }
  });

  it('fine-tunes, registers the result (preview, confirm), lists, gets, updates and archives it', async () => {
    const args = {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_HubTestToken123',
      name: 'llama-support',
    };
    expect((await call(ds.client, 'fine_tune', { ...args, confirmed: true })).isError).toBeFalsy();
    // Not yet finished: registration waits for a Complete job.
    const early = await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', job: 'llama-support' });
    if (early.error_code) expect(early.error).toContain('only a Complete job');
    const done = await call(ds.client, 'wait_for_training', {
      name: 'llama-support',
      timeout_seconds: 120,
      polling_interval: 0.1,
    });
    expect(done.data.status).toBe('Complete');

    const before = modelRegistryOf(sb.store)!.exchanges.filter((e) => e.method !== 'GET').length;
    const preview = await call(ds.client, 'register_model', {
      name: 'support-bot',
      version: 'v1',
      job: 'llama-support',
      properties: { team: 'nlp' },
    });
    expect(preview.status).toBe('preview');
    expect(preview.config).toMatchObject({
      model: 'support-bot',
      new_model: true,
      version: 'v1',
      uri: 'pvc://initializer-llama-support/output',
      model_format: 'safetensors',
    });
    expect(preview.config.properties).toMatchObject({
      trainjob: { string_value: 'llama-support' },
      base_model: { string_value: args.model },
      dataset: { string_value: args.dataset },
      runtime: { string_value: 'torchtune-llama3.2-1b' },
      team: { string_value: 'nlp' },
    });
    // The preview wrote nothing to the registry.
    expect(modelRegistryOf(sb.store)!.exchanges.filter((e) => e.method !== 'GET').length).toBe(before);
    expect((await call(ds.client, 'list_models', {})).data.count).toBe(0);

    const reg = await call(ds.client, 'register_model', {
      name: 'support-bot',
      version: 'v1',
      job: 'llama-support',
      properties: { team: 'nlp' },
      confirmed: true,
    });
    expect(reg.isError, JSON.stringify(reg)).toBeFalsy();
    expect(reg.data).toMatchObject({
      model: 'support-bot',
      version: 'v1',
      uri: 'pvc://initializer-llama-support/output',
    });
    expect(reg.data.version_id).toMatch(/^\d+$/);
    expect(
      (await call(ds.client, 'register_model', { name: 'support-bot', version: 'v1', uri: 's3://x/y' })).error_code,
    ).toBe('ALREADY_EXISTS');
    // A second version of the same model, from a URI.
    expect(
      (
        await call(ds.client, 'register_model', {
          name: 'support-bot',
          version: 'v2',
          uri: 's3://models/support-bot/v2',
          confirmed: true,
        })
      ).data.model_id,
    ).toBe(reg.data.model_id);

    const listed = await call(ds.client, 'list_models', {});
    expect(listed.data.models.map((m: any) => m.name)).toEqual(['support-bot']);
    expect((await call(ds.client, 'list_models', { property: 'team=nlp' })).data.count).toBe(0); // the property sits on the version
    expect((await call(ds.client, 'list_models', { name: 'support' })).data.count).toBe(1);

    const got = await call(ro.client, 'get_model', { name: 'support-bot' });
    expect(got.data.versions.map((v: any) => v.name)).toEqual(['v2', 'v1']);
    const v1 = got.data.versions.find((v: any) => v.name === 'v1');
    expect(v1).toMatchObject({ trainjob: 'llama-support', state: 'LIVE' });
    expect(v1.artifacts).toEqual([
      expect.objectContaining({ uri: 'pvc://initializer-llama-support/output', format: 'safetensors' }),
    ]);
    expect((await call(ro.client, 'list_model_versions', { name: 'support-bot' })).data.count).toBe(2);

    // kubectl, through the same service proxy, sees what the tools report.
    if (hasKubectl) {
      const { kubectl } = kubectlWith(kc);
      const raw = JSON.parse(await kubectl('get', '--raw', RAW));
      expect(raw.items.map((m: any) => [m.id, m.name, m.state])).toEqual(
        listed.data.models.map((m: any) => [m.id, m.name, m.state]),
      );
      expect(registryValidator().response('GET', '/registered_models', 200, raw)).toEqual([]);
    }

    // Fine-tune again from the registered version: resolved through the registry, named in the preview.
    const jobs = () =>
      sb.store
        .list(trainjobs, 'default')
        .map((j) => j.metadata.name)
        .sort();
    const before2 = jobs();
    const again = {
      model: 'model-registry://support-bot/v1',
      dataset: args.dataset,
      hf_token: args.hf_token,
      name: 'support-bot-round2',
    };
    const p2 = await call(ds.client, 'fine_tune', again);
    expect(p2.status, JSON.stringify(p2)).toBe('preview');
    expect(p2.message).toContain("version 'v1' of registered model 'support-bot'");
    expect(p2.config.registered_model).toMatchObject({
      reference: 'model-registry://support-bot/v1',
      model: 'support-bot',
      version: 'v1',
      version_id: v1.id,
      uri: 'pvc://initializer-llama-support/output',
      format: 'safetensors',
      base_model: args.model,
    });
    const tj = p2.config.trainjob;
    // The recipe goes by the base model; the trainer reads the registered claim where the recipe
    // reads its checkpoint, and the model initializer fetches the base model without its weights.
    expect(tj.spec.runtimeRef.name).toBe('torchtune-llama3.2-1b');
    expect(tj.spec.initializer.model.storageUri).toBe(args.model);
    expect(tj.spec.initializer.model.env).toContainEqual({
      name: 'IGNORE_PATTERNS',
      value: expect.stringContaining('*.safetensors'),
    });
    const node = tj.spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs.find(
      (j: any) => j.name === 'node',
    ).template.spec.template.spec;
    expect(node.volumes).toEqual([
      { name: 'registered-model', persistentVolumeClaim: { claimName: 'initializer-llama-support', readOnly: true } },
    ]);
    expect(node.containers[0].volumeMounts).toEqual([
      { name: 'registered-model', mountPath: '/workspace/model', readOnly: true, subPath: 'output' },
    ]);
    expect(tj.metadata.annotations).toMatchObject({
      'kubeflow-mcp/source-model': 'model-registry://support-bot/v1',
      'kubeflow-mcp/base-model': args.model,
    });
    expect(jobs()).toEqual(before2);
    // An unknown version or model is a clear error that changes nothing.
    const missing = await call(ds.client, 'fine_tune', {
      ...again,
      model: 'model-registry://support-bot/v9',
      confirmed: true,
    });
    expect(missing).toMatchObject({ error_code: 'RESOURCE_NOT_FOUND', details: { versions: ['v2', 'v1'] } });
    expect(missing.error).toContain("'support-bot' has no version 'v9'");
    expect(
      (await call(ds.client, 'fine_tune', { ...again, model: 'model-registry://no-such-model/v1', confirmed: true }))
        .error,
    ).toContain("Registered model 'no-such-model' not found");
    expect((await call(ds.client, 'fine_tune', { ...again, model: 'model-registry://a/b/c' })).error_code).toBe(
      'VALIDATION_ERROR',
    );
    expect(jobs()).toEqual(before2);
    // Without a version: the newest LIVE one (v2, stored on S3, read by the model initializer).
    const newest = await call(ds.client, 'fine_tune', {
      ...again,
      model: 'model-registry://support-bot',
      runtime: 'torchtune-llama3.2-1b',
    });
    expect(newest.config.registered_model).toMatchObject({ version: 'v2', uri: 's3://models/support-bot/v2' });
    expect(newest.config.trainjob.spec.initializer.model.storageUri).toBe('s3://models/support-bot/v2');
    // A hyperparameter search from the registered version: every trial starts from it.
    const hpo = await call(ds.client, 'optimize', {
      base_args: { model: 'model-registry://support-bot/v1', dataset: args.dataset },
      parameters: [{ name: 'lora_rank', values: [8, 16] }],
      algorithm: 'grid',
    });
    expect(hpo.status, JSON.stringify(hpo)).toBe('preview');
    expect(hpo.config.registered_model).toMatchObject({ model: 'support-bot', version: 'v1' });
    expect(hpo.config.optimizationjob.metadata.name).toMatch(/^support-bot-v1-hpo-/);
    expect(JSON.stringify(hpo.config.optimizationjob.spec.trainJobTemplate.spec.runtimePatches)).toContain(
      '"claimName":"initializer-llama-support"',
    );

    expect((await call(ds.client, 'fine_tune', { ...again, confirmed: true })).data).toMatchObject({
      job_name: 'support-bot-round2',
      registered_model: { version: 'v1' },
    });
    expect(
      (
        await call(ds.client, 'wait_for_training', {
          name: 'support-bot-round2',
          timeout_seconds: 120,
          polling_interval: 0.1,
        })
      ).data.status,
    ).toBe('Complete');
    // Its registration records where it came from: the base model and the registered version.
    const r3 = await call(ds.client, 'register_model', {
      name: 'support-bot',
      version: 'v3',
      job: 'support-bot-round2',
      confirmed: true,
    });
    expect(r3.data.properties).toMatchObject({
      base_model: { string_value: args.model },
      source_model: { string_value: 'model-registry://support-bot/v1' },
      trainjob: { string_value: 'support-bot-round2' },
    });

    const upd = await call(ds.client, 'update_model_metadata', {
      name: 'support-bot',
      description: 'the support assistant',
      properties: { stage: 'production' },
    });
    expect(upd.status).toBe('preview');
    expect(
      (
        await call(ds.client, 'update_model_metadata', {
          name: 'support-bot',
          description: 'the support assistant',
          properties: { stage: 'production' },
          confirmed: true,
        })
      ).data.description,
    ).toBe('the support assistant');
    expect((await call(ds.client, 'list_models', { property: 'stage=production' })).data.count).toBe(1);

    const av = await call(ds.client, 'archive_model_version', { name: 'support-bot', version: 'v1' });
    expect(av.config).toMatchObject({ state_before: 'LIVE', state_after: 'ARCHIVED' });
    expect(
      (await call(ds.client, 'archive_model_version', { name: 'support-bot', version: 'v1', confirmed: true })).data
        .state,
    ).toBe('ARCHIVED');
    expect(
      (await call(ds.client, 'list_model_versions', { name: 'support-bot', state: 'LIVE' })).data.versions.map(
        (v: any) => v.name,
      ),
    ).toEqual(['v3', 'v2']);
    // An archived version is not trained from.
    expect((await call(ds.client, 'fine_tune', { ...again, name: 'from-archived' })).error).toContain(
      "Version 'v1' of 'support-bot' is archived",
    );
    expect((await call(ds.client, 'archive_model', { name: 'support-bot', confirmed: true })).data.state).toBe(
      'ARCHIVED',
    );
    expect((await call(ds.client, 'list_models', {})).data.count).toBe(0);
    expect((await call(ds.client, 'list_models', { state: 'ARCHIVED' })).data.models.map((m: any) => m.name)).toEqual([
      'support-bot',
    ]);
  }, 240_000);

  it('lets a readonly caller read and not register or train', async () => {
    expect((await call(ro.client, 'list_models', { state: 'ALL' })).isError).toBeFalsy();
    const listed = (await ro.client.listTools()).tools.map((t) => t.name);
    for (const t of [
      'register_model',
      'update_model_metadata',
      'archive_model',
      'archive_model_version',
      'fine_tune',
      'optimize',
    ])
      expect(listed).not.toContain(t);
    const r: any = await ro.client.callTool({
      name: 'register_model',
      arguments: { name: 'x', version: 'v1', uri: 's3://a/b', confirmed: true },
    });
    expect(r.isError).toBe(true);
    const f: any = await ro.client.callTool({
      name: 'fine_tune',
      arguments: { model: 'model-registry://support-bot/v2', dataset: 'hf://tatsu-lab/alpaca', confirmed: true },
    });
    expect(f.isError).toBe(true);
    expect(sb.store.list(trainjobs, 'default').some((j) => j.metadata.name.startsWith('support-bot-v2'))).toBe(false);
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
      expect(
        v.request(e.method, e.path, new URLSearchParams(e.query), e.body),
        `${e.method} ${e.path}?${e.query}`,
      ).toEqual([]);
      expect(v.response(e.method, e.path, e.status, e.answer), `${e.method} ${e.path} ${e.status}`).toEqual([]);
    }
  });
});

describe('reaching the registry', () => {
  let sb2: Sandbox, kc2: string, dir: string;
  const open: Connected[] = [];
  const serve = async (args: string[], env: Record<string, string> = {}) => {
    const c = await connect(
      ['--kubeconfig', kc2, '--persona', 'data-scientist', '--clients', 'trainer,hub', ...args],
      env,
    );
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    sb2 = await startSandbox({ timeScale: 0.02 });
    dir = mkdtempSync(join(tmpdir(), 'kfmcp-hub-reach-'));
    kc2 = join(dir, 'kc');
    writeFileSync(kc2, sb2.kubeconfig);
  }, 60_000);
  afterAll(async () => {
    for (const c of open) await c.close();
    await sb2?.stop();
  });

  it('finds the Service by its labels, and says where it looked when there is none', async () => {
    const original = sb2.store.get(services, 'kubeflow', 'model-registry-service')!;
    sb2.store.remove(services, 'kubeflow', 'model-registry-service');
    const c = await serve([]);
    const none = await call(c.client, 'list_models', {});
    expect(none.error_code).toBe('RESOURCE_NOT_FOUND');
    expect(none.error).toBe(
      "No hub Service (labelled app.kubernetes.io/component=model-registry) found in namespaces 'kubeflow', 'default'",
    );
    expect(none.hint).toContain('--hub-url');
    // Fine-tuning from the registry fails the same way, before anything is built.
    expect(
      (
        await call(c.client, 'fine_tune', {
          model: 'model-registry://m/v1',
          dataset: 'hf://tatsu-lab/alpaca',
          confirmed: true,
        })
      ).error_code,
    ).toBe('RESOURCE_NOT_FOUND');
    expect(sb2.store.list(trainjobs, 'default')).toEqual([]);
    // A registry Service under another name in the caller's namespace is the one used (the
    // sandbox runs no pods behind it, so its proxy answers 503: the request went there).
    const { metadata, spec } = structuredClone(original);
    sb2.store.create(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'team-registry', namespace: 'default', labels: metadata.labels },
      spec: { ...spec, clusterIP: '10.96.80.81', clusterIPs: ['10.96.80.81'] },
    });
    const there = await call(c.client, 'list_models', {});
    expect(there).toMatchObject({
      error_code: 'KUBERNETES_ERROR',
      error: 'hub GET /registered_models: HTTP 503 (through Service default/team-registry:8080)',
    });
    // Back in kubeflow, it is found there first; --hub-namespaces searches elsewhere, --hub-service names one.
    const fresh = structuredClone(original);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp']) delete fresh.metadata[k];
    sb2.store.create(services, fresh);
    expect((await call(c.client, 'list_models', {})).isError).toBeFalsy();
    expect((await call((await serve(['--hub-namespaces', 'default'])).client, 'list_models', {})).error).toContain(
      'default/team-registry:8080',
    );
    expect(
      (
        await call(
          (
            await serve(['--hub-service', 'kubeflow/model-registry-service:8080', '--hub-namespaces', 'default'])
          ).client,
          'list_models',
          {},
        )
      ).isError,
    ).toBeFalsy();
  }, 120_000);

  it('reaches a registry outside the cluster with --hub-url and a token from a file or a Secret', async () => {
    const token = 'registry-token-5f1c2a9e7d';
    const registry = modelRegistryOf(sb2.store)!;
    const seen: Array<{ method: string; path: string; auth?: string }> = [];
    // A real HTTP server in front of the sandbox's registry code, which checks each request against the OpenAPI document.
    const server = http.createServer(async (req, res) => {
      const u = new URL(req.url!, 'http://x');
      const chunks: Buffer[] = [];
      for await (const ch of req) chunks.push(ch as Buffer);
      seen.push({ method: req.method!, path: u.pathname, auth: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ code: 'Unauthorized', message: 'bad token' }));
      }
      if (!u.pathname.startsWith(`${REGISTRY_BASE}/`)) {
        res.writeHead(404);
        return res.end();
      }
      const text = Buffer.concat(chunks).toString();
      const out = registry.handle(
        req.method!,
        u.pathname.slice(REGISTRY_BASE.length),
        u.searchParams,
        text ? JSON.parse(text) : undefined,
      );
      res.writeHead(out.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out.answer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const file = join(dir, 'hub-token');
      writeFileSync(file, `${token}\n`);
      const before = registry.exchanges.length;
      const c = await serve(['--hub-url', url, '--hub-token-file', file]);
      const reg = await call(c.client, 'register_model', {
        name: 'outside',
        version: 'v1',
        uri: 's3://models/outside/v1',
        properties: { base_model: 'hf://meta-llama/Llama-3.2-1B-Instruct' },
        confirmed: true,
      });
      expect(reg.isError, JSON.stringify(reg)).toBeFalsy();
      expect((await call(c.client, 'get_model', { name: 'outside' })).data.versions[0].artifacts[0].uri).toBe(
        's3://models/outside/v1',
      );
      const ft = await call(c.client, 'fine_tune', {
        model: 'model-registry://outside/v1',
        dataset: 'hf://tatsu-lab/alpaca',
      });
      expect(ft.config.registered_model).toMatchObject({
        model: 'outside',
        version: 'v1',
        base_model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      });
      expect(ft.config.trainjob.spec.initializer.model.storageUri).toBe('s3://models/outside/v1');
      expect(ft.config.trainjob.spec.runtimeRef.name).toBe('torchtune-llama3.2-1b'); // chosen by the base model
      // Every request went to the URL with the token, none through the API server's proxy.
      expect(seen.length).toBeGreaterThan(4);
      expect(seen.every((r) => r.auth === `Bearer ${token}`)).toBe(true);
      const v = registryValidator();
      for (const e of registry.exchanges.slice(before))
        expect(v.request(e.method, e.path, new URLSearchParams(e.query), e.body), `${e.method} ${e.path}`).toEqual([]);
      expect(c.stderr()).not.toContain(token);

      // The token from a Secret, read with the caller's credentials.
      sb2.store.create(secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'hub-token', namespace: 'kubeflow' },
        type: 'Opaque',
        data: { token: Buffer.from(token).toString('base64') },
      });
      const s = await serve(['--hub-url', url, '--hub-token-secret', 'kubeflow/hub-token']);
      expect((await call(s.client, 'list_models', {})).data.models.map((m: any) => m.name)).toEqual(['outside']);
      const wrong = await serve(['--hub-url', url, '--hub-token-secret', 'kubeflow/hub-token:other']);
      expect((await call(wrong.client, 'list_models', {})).error).toBe(
        "the hub token Secret kubeflow/hub-token has no key 'other'",
      );
    } finally {
      server.close();
    }
  }, 120_000);

  it('refuses a token given as a plain environment value, without echoing it', () => {
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'serve',
        '--no-banner',
        '--kubeconfig',
        kc2,
        '--clients',
        'trainer,hub',
        '--hub-url',
        'https://registry.example.com',
      ],
      {
        env: { ...process.env, HOME: '/nonexistent-home', KUBEFLOW_MCP_HUB_TOKEN: 'plain-token-value-123' },
        encoding: 'utf8',
        input: '',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('KUBEFLOW_MCP_HUB_TOKEN is not read');
    expect(r.stderr).not.toContain('plain-token-value-123');
    const http2 = spawnSync(
      process.execPath,
      [
        BIN,
        'serve',
        '--no-banner',
        '--kubeconfig',
        kc2,
        '--hub-url',
        'http://registry.example.com',
        '--hub-token-file',
        kc2,
      ],
      { env: { ...process.env, HOME: '/nonexistent-home' }, encoding: 'utf8', input: '' },
    );
    expect(http2.status).toBe(2);
    expect(http2.stderr).toContain('use https');
  });
});
