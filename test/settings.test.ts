// Configuration declared once (specs/settings.yaml): every variable of ours that the source names
// is declared, the README's table is the one generated from the declaration, a variable nothing
// declares is warned about by name (never by value) through a real `serve`, and a bad value stops
// the server with one line and exit code 2.
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, ROOT } from './helpers/mcp.ts';
import { loadSpecs } from '../generator/load.ts';
import { readmeSettings } from '../generator/settings.ts';
import { SETTINGS } from '../generated/settings.ts';
import { resolveServeConfig } from '../runtime/config.ts';
import { parseServeFlags, SERVE_OPTIONS } from '../runtime/serve-options.ts';
import { checkEnvironment, closestVariable, DECLARED_VARIABLES, parseSetting, setting } from '../runtime/settings.ts';

const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.(ts|mjs)$/.test(e.name)
        ? [readFileSync(join(ROOT, dir, e.name), 'utf8')]
        : [],
  );

const run = (args: string[], env: Record<string, string>) =>
  promisify(execFile)(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOME: '/nonexistent-home', ...env },
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stderr: String(e.stderr) }),
  );

describe('the declaration of settings', () => {
  it('declares every KUBEFLOW_MCP_ variable the source names', () => {
    const named = new Set(
      ['runtime', 'bin', 'sandbox'].flatMap((d) =>
        sources(d).flatMap((text) => [...text.matchAll(/KUBEFLOW_MCP_[A-Z0-9_]*[A-Z0-9]/g)].map((m) => m[0])),
      ),
    );
    // A prefix of the heredoc delimiter custom-training writes into a script, not a variable.
    named.delete('KUBEFLOW_MCP_SCRIPT');
    expect([...named].filter((n) => !DECLARED_VARIABLES.includes(n)).sort()).toEqual([]);
  });

  it('is where the README table comes from', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- generated:settings -->\n([\s\S]*?)\n<!-- \/generated:settings -->/.exec(readme)?.[1];
    expect(block).toBe(readmeSettings(loadSpecs(join(ROOT, 'specs')).settings));
    for (const s of SETTINGS) for (const e of 'env' in s ? s.env : []) expect(block).toContain(`\`${e}\``);
  });

  it('refuses a declaration with a mistake, naming the file and line', () => {
    const bad: Array<[string, RegExp]> = [
      [
        '  a:\n    doc: x\n    type: enum\n    values: [one]\n    default: two\n    commands: [serve]\n',
        /settings\.yaml:6:\d+: settings\.a\.default: is not of type enum \(one of one\)/,
      ],
      [
        '  a:\n    doc: x\n    type: int\n    commands: [serve]\n    env: [KUBEFLOW_MCP_X]\n  b:\n    doc: y\n    type: int\n    commands: [serve]\n    env: [KUBEFLOW_MCP_X]\n',
        /settings\.b\.env: KUBEFLOW_MCP_X is already the variable of a/,
      ],
      [
        '  a:\n    doc: x\n    type: string\n    max: 3\n    commands: [serve]\n',
        /settings\.a\.max: bounds apply to int, number and seconds/,
      ],
      ['  a:\n    doc: x\n    type: int\n    comands: [serve]\n', /settings\.yaml:\d+:\d+: settings\.a/],
    ];
    for (const [text, want] of bad) {
      const dir = mkdtempSync(join(tmpdir(), 'kfmcp-settings-specs-'));
      cpSync(join(ROOT, 'specs'), dir, { recursive: true });
      writeFileSync(join(dir, 'settings.yaml'), `settings:\n${text}`);
      expect(() => loadSpecs(dir, join(dir, 'schema'), ROOT), text).toThrow(want);
    }
  });

  it('gives serve its flags, each once, with a help line', () => {
    const flags = SERVE_OPTIONS.map((o) => /--[\w-]+/.exec(o.flags)![0]);
    expect(new Set(flags).size).toBe(flags.length);
    expect(flags).toEqual(expect.arrayContaining(['--persona', '--transport', '--no-banner', '--hub-url', '--config']));
    for (const o of SERVE_OPTIONS) expect(o.description, o.flags).toMatch(/\S/);
    expect(parseServeFlags(['-p', 'ml-engineer', '--no-banner', '--port', '9'])).toEqual({
      persona: 'ml-engineer',
      banner: false,
      port: '9',
    });
  });

  it('parses each type, with one-line errors naming the variable', () => {
    expect(parseSetting('maxSessions', '3', 'KUBEFLOW_MCP_MAX_SESSIONS')).toBe(3);
    expect(parseSetting('offline', 'yes', 'KUBEFLOW_MCP_OFFLINE')).toBe(true);
    expect(parseSetting('mode', 'Semantic', 'KUBEFLOW_MCP_MODE')).toBe('semantic');
    expect(parseSetting('jwtAlgorithms', 'RS256, ES256', 'KUBEFLOW_MCP_JWT_ALGORITHMS')).toEqual(['RS256', 'ES256']);
    const cases: Array<[Parameters<typeof parseSetting>[0], string, string]> = [
      ['maxSessions', '2.5', 'invalid KUBEFLOW_MCP_MAX_SESSIONS "2.5"; expected a whole number of at least 1'],
      [
        'k8sTimeoutSeconds',
        '601',
        'invalid KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS "601"; expected seconds between 0 and 600',
      ],
      ['replicas', 'two', 'invalid KUBEFLOW_MCP_REPLICAS "two"; expected a whole number between 1 and 1000'],
      ['offline', 'maybe', 'invalid KUBEFLOW_MCP_OFFLINE "maybe"; expected true or false (1 or 0)'],
      ['mode', 'all', 'invalid KUBEFLOW_MCP_MODE "all"; expected one of: full, progressive, semantic'],
      [
        'embeddingsUrl',
        'localhost:11434',
        'invalid KUBEFLOW_MCP_EMBEDDINGS_URL "localhost:11434"; expected an http(s) URL',
      ],
    ];
    for (const [key, text, message] of cases) {
      const name = SETTINGS.find((s) => s.key === key)!;
      expect(() => parseSetting(key, text, ('env' in name ? name.env : [])[0])).toThrow(message);
    }
  });

  it('names the closest declared variable for one nothing declares, never its value', () => {
    expect(closestVariable('KUBEFLOW_MCP_MAX_SESION')).toBe('KUBEFLOW_MCP_MAX_SESSIONS');
    expect(closestVariable('KUBEFLOW_MCP_JWT_ISSUR')).toBe('KUBEFLOW_MCP_JWT_ISSUER');
    const warnings = checkEnvironment('serve', {
      KUBEFLOW_MCP_PERSONAS: 'hunter2-secret',
      KUBEFLOW_MCP_PERSONA: 'readonly',
    });
    expect(warnings).toEqual([
      'unknown environment variable KUBEFLOW_MCP_PERSONAS (did you mean KUBEFLOW_MCP_PERSONA?); it is not read',
    ]);
  });

  it('refuses two names of one setting set to different values', () => {
    expect(() => checkEnvironment('serve', { KUBEFLOW_MCP_RATE_BURST: '5', KUBEFLOW_MCP_RATE_CAPACITY: '6' })).toThrow(
      /KUBEFLOW_MCP_RATE_BURST and KUBEFLOW_MCP_RATE_CAPACITY are both set, to different values/,
    );
  });

  it('holds the controller namespace once: environment, then config file, then its one default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-settings-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'trainer:\n  controller_namespace: trainer-ops\n');
    const base = { HOME: '/nonexistent-home' };
    await resolveServeConfig({ config: file }, { ...base });
    expect(setting('controllerNamespace')).toBe('trainer-ops');
    await resolveServeConfig({ config: file }, { ...base, KUBEFLOW_MCP_CONTROLLER_NAMESPACE: 'from-env' });
    expect(setting('controllerNamespace')).toBe('from-env');
    writeFileSync(file, '');
    const cfg = await resolveServeConfig({ config: file }, { ...base });
    expect([cfg.controllerNamespace, setting('controllerNamespace')]).toEqual(['kubeflow-system', 'kubeflow-system']);
  });
});

describe('serve and its environment', () => {
  it('warns once about an undeclared KUBEFLOW_MCP_ variable, naming the closest one and not the value', async () => {
    const secret = 'do-not-print-this-0123456789';
    const proc = spawn(process.execPath, [BIN, 'serve', '--no-banner', '--log-format', 'json'], {
      env: { ...process.env, HOME: '/nonexistent-home', KUBEFLOW_MCP_MAX_SESION: secret },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no warning in: ${err}`)), 20_000);
      proc.stderr!.on('data', (d) => {
        err += d;
        if (/KUBEFLOW_MCP_MAX_SESION/.test(err) && err.endsWith('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    proc.stdin!.end();
    await new Promise((r) => proc.on('exit', r));
    const records = err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((r) => /KUBEFLOW_MCP_MAX_SESION/.test(r.message));
    expect(records).toHaveLength(1);
    expect(records[0].level).toBe('WARNING');
    expect(records[0].message).toContain('did you mean KUBEFLOW_MCP_MAX_SESSIONS?');
    expect(err).not.toContain(secret);
  }, 30_000);

  it('stops on a bad value with one line and exit code 2', async () => {
    for (const [env, want] of [
      [
        { KUBEFLOW_MCP_MAX_ANSWER_BYTES: 'lots' },
        /invalid KUBEFLOW_MCP_MAX_ANSWER_BYTES "lots"; expected a whole number of at least 1024/,
      ],
      [{ KUBEFLOW_MCP_REPLICAS: '0' }, /invalid KUBEFLOW_MCP_REPLICAS "0"; expected a whole number between 1 and 1000/],
      [{ KUBEFLOW_MCP_OFFLINE: 'sometimes' }, /invalid KUBEFLOW_MCP_OFFLINE "sometimes"; expected true or false/],
    ] as Array<[Record<string, string>, RegExp]>) {
      const r = await run(['serve', '--no-banner'], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 30_000);
});
