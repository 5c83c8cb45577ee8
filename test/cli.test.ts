// The command line: version, help, status, one-line errors with exit code 2, and the sandbox
// command run as a user would (kubeconfig written, kubectl-compatible, clean stop on SIGTERM).
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN } from './helpers/mcp.ts';
import { MODULES, TOOLS } from '../generated/index.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const run = async (...args: string[]) => {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, HOME: '/nonexistent-home' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
  }
};

describe('kubeflow-mcp CLI', () => {
  it('prints its version, help and status', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect((await run('--version')).stdout.trim()).toBe(pkg.version);
    expect((await run('serve', '--help')).stdout).toContain('--instruction-tier');
    const status = await run('status');
    // Counted from the specs, so a tool added in YAML needs no edit here.
    for (const [module, m] of Object.entries(MODULES)) {
      const n = TOOLS.filter((t) => t.module === module).length;
      if (n && m.status === 'implemented') expect(status.stdout).toContain(`${module}: implemented (${n} tools)`);
    }
  });

  const bad: Array<[string[], RegExp]> = [
    [['serve', '--persona', 'wizard'], /unknown persona "wizard"/],
    [['serve', '--instruction-tier', 'huge'], /invalid instruction tier "huge" \(from --instruction-tier\)/],
    [['serve', '--transport', 'carrier-pigeon'], /invalid transport "carrier-pigeon"/],
    [['serve', '--clients', 'trainer,nope'], /unknown client module "nope"/],
    [['serve', '--config', '/nonexistent.yaml'], /config file \/nonexistent.yaml does not exist/],
    [['serve', '--bogus'], /unknown option '--bogus'/],
    [['sandbox', '--port', 'abc'], /invalid --port "abc"/],
  ];
  for (const [args, msg] of bad) {
    it(`rejects ${args.join(' ')} with one line and exit code 2`, async () => {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('refuses a policy or config file with a typo instead of starting with fewer limits', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        '.kf-mcp-policy.yaml',
        'policy:\n  namespace: [ml-team]\n',
        /unknown key "policy.namespace" \(did you mean "namespaces"\?\)/,
      ],
      [
        '.kf-mcp-policy.yaml',
        'policy:\n  readonly: true\n',
        /unknown key "policy.readonly" \(did you mean "read_only"\?\)/,
      ],
      [
        '.kf-mcp-policy.yaml',
        'policy:\n  deny: ["risk:destuctive"]\n',
        /unknown risk "destuctive" \(did you mean "destructive"\?\)/,
      ],
      ['.kf-mcp-policy.yaml', 'policy:\n  deny: ["delete_trainjob"]\n', /"delete_trainjob" matches no tool/],
      [
        '.kf-mcp-policy.yaml',
        'policy:\n  allow: ["category:training"]\n  deny: ["category:lifecyle"]\n',
        /unknown category "lifecyle"/,
      ],
      [
        '.kf-mcp-policy.yaml',
        'personas:\n  reviewer: {inherits: readonly}\n',
        /unknown key "personas.reviewer.inherits" \(did you mean "inherit"\?\)/,
      ],
      [
        '.kubeflow-mcp.yaml',
        'server:\n  personna: readonly\n',
        /unknown key "server.personna" \(did you mean "persona"\?\)/,
      ],
    ];
    for (const [file, text, want] of cases) {
      const home = mkdtempSync(join(tmpdir(), 'kfmcp-home-'));
      writeFileSync(join(home, file), text);
      const r = await promisify(execFile)(process.execPath, [BIN, 'serve', '--no-banner'], {
        encoding: 'utf8',
        env: { ...process.env, HOME: home },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (e) => ({ code: e.code, stderr: String(e.stderr) }),
      );
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('does not let a config file in the working directory raise the persona unless named or trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-cwd-'));
    writeFileSync(join(dir, '.kubeflow-mcp.yaml'), 'server:\n  persona: platform-admin\n');
    const opts = (env: Record<string, string> = {}) => ({
      cwd: dir,
      encoding: 'utf8' as const,
      env: { ...process.env, HOME: '/nonexistent-home', ...env },
    });
    const refused = await promisify(execFile)(process.execPath, [BIN, 'serve', '--no-banner'], opts()).then(
      () => ({ code: 0, stderr: '' }),
      (e) => ({ code: e.code, stderr: String(e.stderr) }),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/found in the working directory\) sets server.persona "platform-admin"/);
    // Named explicitly, or trusted: it applies. (The server then waits on stdin; end it at once.)
    for (const [args, env] of [
      [['--config', join(dir, '.kubeflow-mcp.yaml')], {}],
      [[], { KUBEFLOW_MCP_TRUST_CWD_CONFIG: '1' }],
    ] as const) {
      const child = spawn(process.execPath, [BIN, 'serve', '--no-banner', '--log-format', 'json', ...args], {
        ...opts(env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      // Until the full server has started (it logs its persona), at most 15 s on a busy machine.
      for (let i = 0; i < 150 && !/platform-admin/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      child.stdin.end();
      const code = await new Promise((r) => child.on('exit', r));
      expect(code, err).toBe(0);
      expect(err).toMatch(/platform-admin/);
    }
  });

  it('says once that there is no kubeconfig, keeps the offline tools, and talks plain HTTP to a local API server', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kfmcp-nokc-'));
    const env = { ...(process.env as Record<string, string>), HOME: home, KUBECONFIG: '' };
    delete (env as any).KUBECONFIG;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'serve', '--no-banner', '--log-format', 'json'],
      env,
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d) => {
      err += d;
    });
    const client = new Client({ name: 'nokc', version: '1' });
    await client.connect(transport);
    try {
      const health = JSON.parse(
        ((await client.callTool({ name: 'health_check', arguments: {} })) as any).content[0].text,
      );
      expect(health.data).toMatchObject({ status: 'degraded', kubernetes: false });
      expect(health.data.offline_tools).toContain('estimate_resources');
      const est = JSON.parse(
        ((await client.callTool({ name: 'estimate_resources', arguments: { model: 'gpt2' } })) as any).content[0].text,
      );
      expect(est.success).toBe(true);
      const jobs = JSON.parse(
        ((await client.callTool({ name: 'list_training_jobs', arguments: {} })) as any).content[0].text,
      );
      expect(jobs).toMatchObject({ success: false, error_code: 'KUBERNETES_ERROR' });
      expect(jobs.error).toMatch(/no kubeconfig/);
    } finally {
      await client.close();
    }
    expect(err.split('\n').filter((l) => l.startsWith('kubeflow-mcp: no kubeconfig'))).toHaveLength(1);

    // kubectl proxy style: an http:// server with no TLS settings at all.
    const { startSandbox } = await import('../sandbox/index.ts');
    const sb = await startSandbox({ timeScale: 0.1 });
    try {
      const kc = join(home, 'plain.kubeconfig');
      writeFileSync(
        kc,
        `apiVersion: v1\nkind: Config\nclusters: [{name: p, cluster: {server: '${sb.url}'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: p, user: u}}]\ncurrent-context: c\n`,
      );
      const t2 = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'serve', '--no-banner', '--kubeconfig', kc],
        env,
        stderr: 'pipe',
      });
      const c2 = new Client({ name: 'plain', version: '1' });
      await c2.connect(t2);
      try {
        const health = JSON.parse(
          ((await c2.callTool({ name: 'health_check', arguments: {} })) as any).content[0].text,
        );
        expect(health.data, JSON.stringify(health)).toMatchObject({ status: 'healthy', kubernetes: true });
      } finally {
        await c2.close();
      }
    } finally {
      await sb.stop();
    }
  });

  it('reads settings from env and config file, with flags first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), 'server:\n  instruction_tier: bogus-from-file\n');
    expect((await run('serve', '--config', join(dir, 'c.yaml'))).stderr).toMatch(/from config server.instruction_tier/);
    const envRun = await promisify(execFile)(
      process.execPath,
      [BIN, 'serve', '--config', join(dir, 'c.yaml'), '--instruction-tier', 'full', '--no-banner'],
      { env: { ...process.env, KUBEFLOW_MCP_PERSONA: 'nobody' } },
    ).catch((e) => e);
    expect(envRun.stderr).toMatch(/unknown persona "nobody"/);
  });

  it('serve exits cleanly when the client closes stdin, and on SIGTERM', async () => {
    for (const how of ['stdin', 'SIGTERM'] as const) {
      const p = spawn(process.execPath, [BIN, 'serve', '--sandbox', '--no-banner', '--log-level', 'ERROR'], {
        env: { ...process.env, HOME: '/nonexistent-home' },
      });
      let err = '';
      p.stderr.on('data', (d) => {
        err += d;
      });
      // Wait until it answers initialize, so its signal handlers are in place.
      p.stdin.write(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }) + '\n',
      );
      await new Promise((r) => p.stdout.once('data', r));
      const code = await new Promise((resolve) => {
        p.on('exit', (c) => resolve(c));
        if (how === 'stdin') p.stdin.end();
        else p.kill('SIGTERM');
      });
      expect(code, `${how}: ${err}`).toBe(0);
      expect(err).not.toMatch(/Maximum call stack|RangeError/);
    }
  });

  it('runs the sandbox in the foreground, writes a kubeconfig and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-sbcli-'));
    const kc = join(dir, 'kc.yaml');
    const p = spawn(process.execPath, [BIN, 'sandbox', '--kubeconfig', kc, '--time-scale', '0.1']);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\S+)/);
        if (m) resolve(m[1]);
      });
      p.on('exit', () => reject(new Error(out)));
    });
    expect(readFileSync(kc, 'utf8')).toContain(url);
    const nodes = await (await fetch(`${url}/api/v1/nodes`)).json();
    expect(nodes.items.length).toBe(4);
    const code = await new Promise((resolve) => {
      p.on('exit', resolve);
      p.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
