// The MCP server driven by a real MCP client over stdio against `serve --sandbox`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, connect, type Connected } from './helpers/mcp.ts';
import * as z from 'zod/v4';
import {
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { assembleInstructions, INSTRUCTION_SOURCE, MODULES, PERSONA_TOOLS, TOOLS } from '../generated/index.ts';

const PERSONAS = ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin'];

describe('tool surface per persona', () => {
  // Derived from the generated registry, never hand-kept: a tool added in YAML needs no test edit.
  for (const persona of PERSONAS) {
    it(`${persona} sees exactly its tools, as the specs declare them`, async () => {
      const c = await connect(['--persona', persona]);
      try {
        const { tools } = await c.client.listTools();
        // The default client modules: trainer (and the always-on server tools).
        // Tools about choosing among contexts are not listed: the sandbox kubeconfig has one.
        const want = TOOLS.filter(
          (t) =>
            PERSONA_TOOLS[persona].includes(t.name) && (t.module === 'trainer' || MODULES[t.module].always) && !t.needs,
        );
        expect(tools.map((t) => t.name)).toEqual(want.map((t) => t.name));
        for (const [i, t] of tools.entries()) {
          // No title and no output schema: tools/list carries only what calling needs.
          expect(t).toEqual({
            name: want[i].name,
            description: want[i].description,
            inputSchema: want[i].listedInputSchema,
            annotations: want[i].listedAnnotations,
          });
          expect(Object.keys(want[i].moreOptions).filter((k) => k in (t.inputSchema.properties ?? {}))).toEqual([]);
        }
        if (persona === 'readonly') expect(tools.every((t) => t.annotations?.readOnlyHint)).toBe(true);
        // The served instructions, and every tier of them, name only tools this persona has.
        const served = new Set(want.map((t) => t.name));
        const texts = [
          c.client.getInstructions() ?? '',
          ...(['full', 'compact', 'minimal'] as const).map((tier) =>
            assembleInstructions(INSTRUCTION_SOURCE, served, tier),
          ),
        ];
        for (const text of texts) {
          const named = TOOLS.map((t) => t.name).filter((n) => new RegExp(`\\b${n}\\b`).test(text));
          expect(named.filter((n) => !served.has(n))).toEqual([]);
          expect(named.length).toBeGreaterThan(0);
        }
      } finally {
        await c.close();
      }
    });
  }
});

describe('tools end to end on the sandbox', () => {
  let admin: Connected, ds: Connected;
  beforeAll(async () => {
    admin = await connect(['--sandbox', '--persona', 'platform-admin', '--time-scale', '0.02']);
    ds = await connect(['--sandbox', '--persona', 'data-scientist', '--time-scale', '0.02']);
  });
  afterAll(async () => {
    await admin?.close();
    await ds?.close();
  });

  it('health_check, list/get runtimes, inspect_crd, inspect_controller', async () => {
    expect((await call(admin.client, 'health_check')).data).toMatchObject({ status: 'healthy', kubernetes: true });
    const rts = (await call(admin.client, 'list_runtimes')).data;
    expect(rts.total).toBe(8);
    expect(rts.runtimes.find((r: any) => r.name === 'torchtune-llama3.2-1b')).toMatchObject({
      framework: 'torchtune',
      trainer_type: 'BuiltinTrainer',
      device: 'gpu',
      device_count: 2,
      num_nodes: 1,
      initializers: ['dataset-initializer', 'model-initializer'],
    });
    const rt = await call(admin.client, 'get_runtime', { name: 'torch-distributed' });
    expect(rt.data).toMatchObject({ framework: 'torch', image: 'pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime' });
    expect(rt._meta).toEqual({ phase: 'discovery', next: 'Ready to submit; use fine_tune() or run_custom_training()' });
    expect((await call(admin.client, 'get_runtime', { name: 'nope' })).error_code).toBe('RESOURCE_NOT_FOUND');
    expect((await call(admin.client, 'inspect_crd')).data.count).toBe(4);
    expect(
      (await call(admin.client, 'inspect_crd', { name: 'trainjobs.trainer.kubeflow.org' })).data.versions[0]
        .spec_fields,
    ).toContain('runtimePatches');
    expect((await call(admin.client, 'inspect_controller', { view: 'logs' })).data.logs).toContain('starting manager');
  });

  it('answers non-object arguments with JSON-RPC invalid params (-32602)', async () => {
    for (const bad of [[1, 2], 'x', 7, null]) {
      const err = await admin.client
        .request(
          { method: 'tools/call', params: { name: 'health_check', arguments: bad as any } },
          z.object({}).passthrough(),
        )
        .then(
          () => undefined,
          (e) => e,
        );
      expect(err?.code, JSON.stringify(bad)).toBe(-32602);
    }
  });

  it('reports a Trainer webhook refusal as a validation error quoting its reason, not as RBAC', async () => {
    const r = await call(admin.client, 'run_custom_training', {
      script: 'print(1)',
      runtime: 'torch-distributed',
      env: { PET_NNODES: '2' },
    });
    expect(r).toMatchObject({
      success: false,
      error_code: 'VALIDATION_ERROR',
      details: { webhook: 'validator.trainjob.trainer.kubeflow.org' },
    });
    expect(r.error).toContain('PET_NNODES');
    expect(r.hint).not.toMatch(/RBAC/);
  });

  it('rejects bad input with VALIDATION_ERROR naming the field, before Kubernetes', async () => {
    const r = await call(admin.client, 'get_training_logs', { name: 'x', tail_lines: 0 });
    expect(r).toMatchObject({ success: false, error_code: 'VALIDATION_ERROR', isError: true });
    expect(r.error).toContain("'tail_lines'");
    expect((await call(admin.client, 'update_training_job', { name: 'x', action: 'explode' })).error).toContain(
      "'action' must be one of",
    );
    expect((await call(admin.client, 'list_training_jobs', { bogus: 1 })).error).toContain(
      "'bogus' is not a parameter",
    );
  });

  it('previews a runtime patch without changing it, then applies it', async () => {
    const before = (await call(admin.client, 'get_runtime', { name: 'jax-distributed' })).data.labels;
    const preview = await call(admin.client, 'patch_runtime', {
      name: 'jax-distributed',
      patch: { metadata: { labels: { team: 'a' } } },
    });
    expect(preview).toMatchObject({ success: true, status: 'preview' });
    expect(preview.config.changed_paths).toEqual(['metadata.labels.team']);
    expect((await call(admin.client, 'get_runtime', { name: 'jax-distributed' })).data.labels).toEqual(before);
    const done = await call(admin.client, 'patch_runtime', {
      name: 'jax-distributed',
      patch: { metadata: { labels: { team: 'a' } } },
      confirmed: true,
    });
    expect(done.data.patched).toBe(true);
    expect((await call(admin.client, 'get_runtime', { name: 'jax-distributed' })).data.labels.team).toBe('a');
  });

  it('creates and deletes a runtime with previews and dry runs', async () => {
    const container = { name: 'node', image: 'busybox' };
    const rjob = {
      name: 'node',
      template: {
        metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } },
        spec: { template: { spec: { containers: [container] } } },
      },
    };
    const spec = { mlPolicy: { numNodes: 1, torch: {} }, template: { spec: { replicatedJobs: [rjob] } } };
    expect((await call(admin.client, 'create_runtime', { name: 'my-rt', framework: 'torch', spec })).status).toBe(
      'preview',
    );
    expect((await call(admin.client, 'get_runtime', { name: 'my-rt' })).error_code).toBe('RESOURCE_NOT_FOUND');
    expect(
      (await call(admin.client, 'create_runtime', { name: 'my-rt', framework: 'torch', spec, confirmed: true })).data
        .created,
    ).toBe(true);
    expect(
      (await call(admin.client, 'create_runtime', { name: 'my-rt', framework: 'torch', spec, confirmed: true }))
        .error_code,
    ).toBe('ALREADY_EXISTS');
    expect((await call(admin.client, 'list_runtimes')).data.runtimes.map((r: any) => r.name)).toContain('my-rt');
    expect((await call(admin.client, 'delete_runtime', { name: 'my-rt' })).config.dependent_count).toBe(0);
    expect((await call(admin.client, 'delete_runtime', { name: 'my-rt', confirmed: true })).data.deleted).toBe(true);
  });

  it('get_server_logs returns audit records with secrets masked', async () => {
    await call(admin.client, 'get_training_job', { name: 'some-job' });
    const logs = (await call(admin.client, 'get_server_logs', { level: 'INFO', limit: 5 })).data.logs;
    expect(logs.some((l: any) => l.tool === 'get_training_job' && l.error_code === 'RESOURCE_NOT_FOUND')).toBe(true);
  });

  it('never logs the value of a misspelt credential parameter, and leaves short words alone', async () => {
    const typo = await call(admin.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      hf_tokn: 'hf_MisspeltSecret77',
    });
    expect(typo.error_code).toBe('VALIDATION_ERROR');
    const logs = JSON.stringify((await call(admin.client, 'get_server_logs', { level: 'INFO', limit: 20 })).data.logs);
    expect(logs).toContain('hf_tokn');
    expect(logs).not.toContain('MisspeltSecret');
    // A short "token" is masked by its key, but not searched for in every text.
    await call(admin.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'train',
    });
    const missing = await call(admin.client, 'get_training_job', { name: 'no-such-job' });
    expect(missing.hint).toContain('list_training_jobs()');
  });

  it('keeps advanced inputs out of tools/list, lists them in the preview, and accepts them', async () => {
    const listed = (await admin.client.listTools()).tools.find((t) => t.name === 'fine_tune')!;
    expect(Object.keys(listed.inputSchema.properties ?? {})).not.toContain('node_selector');
    const base = { model: 'hf://google/gemma-2b', dataset: 'hf://tatsu-lab/alpaca', runtime: 'torchtune-llama3.2-1b' };
    const first = await call(admin.client, 'fine_tune', base);
    expect(first.status).toBe('preview');
    expect(first.more_options).toMatchObject({
      node_selector: 'map of string',
      dataset_source: 'json|csv|parquet|arrow|text|xml',
      lora_dropout: 'number 0..1',
    });
    expect(first._meta.next).toContain('more_options');
    // An advanced input is validated like any other, and reaches the TrainJob; once set it is no longer offered.
    expect((await call(admin.client, 'fine_tune', { ...base, lora_dropout: 2 })).error_code).toBe('VALIDATION_ERROR');
    const second = await call(admin.client, 'fine_tune', { ...base, node_selector: { pool: 'a100' } });
    expect(second.more_options).not.toHaveProperty('node_selector');
    expect(JSON.stringify(second.config.trainjob.spec.runtimePatches)).toContain('"nodeSelector":{"pool":"a100"}');
    // A tool without advanced inputs adds nothing to its preview.
    const del = await call(admin.client, 'delete_training_job', { name: 'whatever-job' });
    expect(del).not.toHaveProperty('more_options');
  });

  it('refuses pip index URLs a shell could read as commands, NUL bytes, and scripts no command line can carry', async () => {
    const base = { script: 'print(1)', runtime: 'torch-distributed', packages: ['numpy'] };
    for (const url of [
      "https://x' $(touch M) '",
      'https://x/simple;rm -rf /',
      'file:///etc/passwd',
      'https://x/ $(id)',
    ]) {
      const r = await call(admin.client, 'run_custom_training', { ...base, pip_index_urls: [url] });
      expect(r.error_code, url).toBe('VALIDATION_ERROR');
    }
    const ok = await call(admin.client, 'run_custom_training', {
      ...base,
      pip_index_urls: ['https://pypi.example.com:8443/simple/'],
    });
    expect(ok.config.trainjob.spec.trainer.command[2]).toContain("--index-url 'https://pypi.example.com:8443/simple/'");
    expect((await call(admin.client, 'run_custom_training', { ...base, script: 'print(1)\u0000' })).error).toContain(
      'NUL',
    );
    const big = await call(admin.client, 'run_custom_training', { ...base, script: `print("${'é'.repeat(70000)}")` });
    expect(big).toMatchObject({ error_code: 'VALIDATION_ERROR', details: { limit: 131072 } });
  });

  it('sends its log records to a client that set a level, masked, and none below that level', async () => {
    const got: any[] = [];
    admin.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      got.push(n.params);
    });
    await admin.client.setLoggingLevel('info');
    await call(admin.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_LoggedOverMcp999',
    });
    for (let i = 0; i < 50 && !got.some((g) => g.data?.message === 'tool_call'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const audit = got.find((g) => g.data?.message === 'tool_call' && g.data?.tool === 'fine_tune');
    expect(audit).toMatchObject({ level: 'info', logger: 'kubeflow_mcp' });
    expect(JSON.stringify(got)).not.toContain('hf_LoggedOverMcp999');
    await admin.client.setLoggingLevel('error');
    const before = got.length;
    await call(admin.client, 'health_check');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(before);
  });

  it('hides tools above the persona and says so when called', async () => {
    const r = await call(ds.client, 'patch_runtime', { name: 'x', patch: { spec: {} } });
    expect(r).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
  });

  it('serves resources and prompts whose hints exist', async () => {
    const res = await admin.client.listResources();
    expect(res.resources.map((r) => r.uri)).toEqual([
      'trainer://guides/training-patterns',
      'trainer://guides/troubleshooting',
      'trainer://guides/platform-fixes',
    ]);
    expect(
      ((await admin.client.readResource({ uri: 'trainer://guides/platform-fixes' })).contents[0] as any).text,
    ).toMatch(/OpenShift[\s\S]*EKS[\s\S]*GKE[\s\S]*AKS/);
    const read = await admin.client.readResource({ uri: 'trainer://guides/troubleshooting' });
    expect((read.contents[0] as any).text).toContain('FailedScheduling');
    const p = await admin.client.getPrompt({ name: 'troubleshooting_guide', arguments: { job_name: 'abc' } });
    expect((p.messages[0].content as any).text).toContain('TrainJob "abc"');
  });
});

describe('policy file, changed while the server runs', () => {
  it('reloads it, changes the tool list and tells the client; a broken edit keeps the last policy', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kfmcp-reload-'));
    const file = join(home, '.kf-mcp-policy.yaml');
    writeFileSync(file, 'policy:\n  deny: ["inspect_*"]\n');
    const c = await connect(['--sandbox', '--persona', 'ml-engineer'], { HOME: home });
    try {
      let changes = 0;
      c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changes++;
      });
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('list_training_jobs');
      writeFileSync(file, 'policy:\n  deny: ["inspect_*", "list_*"]\n');
      for (let i = 0; i < 300 && !changes; i++) await new Promise((r) => setTimeout(r, 30));
      expect(changes).toBeGreaterThan(0);
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('list_training_jobs');
      expect(names).toContain('get_training_job');
      expect((await call(c.client, 'list_training_jobs')).error_code).toBe('PERMISSION_DENIED');
      // A typo is refused and the last good policy stays in force.
      const seen = changes;
      writeFileSync(file, 'policy:\n  dny: ["list_*"]\n');
      // Waits for the server to say it read the edit, not for a fixed time that a slow machine may overrun.
      for (let i = 0; i < 300 && !/keeping the last policy/.test(c.stderr()); i++)
        await new Promise((r) => setTimeout(r, 30));
      expect(changes).toBe(seen);
      expect((await call(c.client, 'list_training_jobs')).error_code).toBe('PERMISSION_DENIED');
      expect(c.stderr()).toMatch(/unknown key "policy.dny".*keeping the last policy/);
    } finally {
      await c.close();
    }
  });
});

describe('policy file', () => {
  it('applies deny, read_only and the namespace allowlist (fail closed)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kfmcp-home-'));
    writeFileSync(join(home, '.kf-mcp-policy.yaml'), 'policy:\n  deny: ["inspect_*"]\n  namespaces: [ml-team]\n');
    const c = await connect(['--sandbox', '--persona', 'ml-engineer'], { HOME: home });
    try {
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('inspect_crd');
      expect(names).toContain('update_training_job');
      const r = await call(c.client, 'list_training_jobs', { namespace: 'default' });
      expect(r).toMatchObject({ error_code: 'PERMISSION_DENIED' });
      expect((await call(c.client, 'list_training_jobs', { namespace: 'ml-team' })).success).toBe(true);
    } finally {
      await c.close();
    }
    writeFileSync(join(home, '.kf-mcp-policy.yaml'), 'policy:\n  namespaces: [ml-team]\n');
    const scoped = await connect(['--sandbox', '--persona', 'platform-admin', '--time-scale', '0.02'], { HOME: home });
    try {
      expect((await call(scoped.client, 'inspect_controller')).error_code).toBe('PERMISSION_DENIED');
      // Every tool with a namespace input obeys the allowlist (the generator refuses one that does not).
      expect((await call(scoped.client, 'pre_flight', { namespace: 'kube-system' })).error_code).toBe(
        'PERMISSION_DENIED',
      );
      expect((await call(scoped.client, 'check_compatibility', { namespace: 'kube-system' })).error_code).toBe(
        'PERMISSION_DENIED',
      );
      expect((await call(scoped.client, 'list_runtimes', { namespace: 'kube-system' })).error_code).toBe(
        'PERMISSION_DENIED',
      );
      expect((await call(scoped.client, 'inspect_controller', { namespace: 'kubeflow-system' })).error_code).toBe(
        'PERMISSION_DENIED',
      );
      expect(
        (
          await call(scoped.client, 'run_container_training', {
            image: 'busybox',
            namespace: 'default',
            runtime: 'xgboost-distributed',
            confirmed: true,
          })
        ).error_code,
      ).toBe('PERMISSION_DENIED');
    } finally {
      await scoped.close();
    }
    // A persona from the policy file hears only of the tools it has, in every tier.
    writeFileSync(
      join(home, '.kf-mcp-policy.yaml'),
      'personas:\n  reviewer: {inherit: readonly, tools: [wait_for_training]}\n',
    );
    for (const tier of ['full', 'compact', 'minimal']) {
      const rev = await connect(['--sandbox', '--persona', 'reviewer', '--instruction-tier', tier], { HOME: home });
      try {
        const names = (await rev.client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('wait_for_training');
        expect(names).not.toContain('fine_tune');
        const text = rev.client.getInstructions() ?? '';
        const named = TOOLS.map((t) => t.name).filter((n) => new RegExp(`\\b${n}\\b`).test(text));
        expect(
          named.filter((n) => !names.includes(n)),
          tier,
        ).toEqual([]);
        expect(text).toContain('wait_for_training');
      } finally {
        await rev.close();
      }
    }
    writeFileSync(join(home, '.kf-mcp-policy.yaml'), 'policy:\n  read_only: true\n');
    const ro = await connect(['--sandbox', '--persona', 'platform-admin'], { HOME: home });
    try {
      const tools = (await ro.client.listTools()).tools;
      expect(tools.length).toBeGreaterThan(0);
      expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    } finally {
      await ro.close();
    }
  });
});

describe('rate limits', () => {
  // The refill over time is tested in-process on a manual clock (pipeline.unit.test.ts); here the rate is
  // so low that no token comes back during the test however slow the machine is.
  it('limits each client to its rate and burst from the environment, before validating, and says when to retry', async () => {
    const c = await connect(['--persona', 'readonly'], {
      KUBEFLOW_MCP_RATE_LIMIT: '0.001',
      KUBEFLOW_MCP_RATE_BURST: '3',
    });
    try {
      const results = [];
      for (let i = 0; i < 5; i++)
        results.push(
          await call(
            c.client,
            i % 2 ? 'get_training_job' : 'estimate_resources',
            i % 2 ? { name: 'Bad_Name' } : { model: 'google/gemma-2b' },
          ),
        );
      expect(results.slice(0, 3).map((r) => r.error_code ?? 'ok')).toEqual(['ok', 'VALIDATION_ERROR', 'ok']);
      expect(results[3]).toMatchObject({ success: false, error_code: 'RATE_LIMITED' });
      expect(results[3].details.retry_after_seconds).toBeGreaterThan(900);
      expect(results[4]).toMatchObject({ success: false, error_code: 'RATE_LIMITED' });
    } finally {
      await c.close();
    }
  });
});
