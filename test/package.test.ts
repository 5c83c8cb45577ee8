// The server as users get it, outside this checkout: `npm pack` (which builds first), the tarball
// installed in an empty folder and globally, then `npx kubeflow-mcp serve --sandbox` and the global
// `kubeflow-mcp` answering an MCP client. Then the container image without a Docker engine: the
// Dockerfile checked statically (hadolint-style rules, written out here), and the files its last
// stage copies put in a folder of their own and served from there. Last, the registry and client
// files (server.json, .mcp.json) agree with package.json.
//
// The checkout is copied first (tracked and untracked files, not ignored ones; node_modules linked),
// so packing builds dist/ in the copy and never replaces the dist/ other tests are using.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const TARBALL = `${pkg.name}-${pkg.version}.tgz`;
const exec = promisify(execFile);
const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
const temps: string[] = [];
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** The environment of a user's shell: none of the npm_* variables an enclosing `npm test` sets. */
const shellEnv = (extra: Record<string, string> = {}) =>
  ({
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !/^npm_(lifecycle|package|command|execpath|node_execpath|config_(foreground_scripts|prefix|global))/i.test(k),
      ),
    ),
    ...extra,
  }) as Record<string, string>;

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
const sizeOf = (dir: string) => files(dir).reduce((n, f) => n + statSync(f).size, 0);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Starts a server with `command args` over stdio and calls it as a client does. */
async function exercise(command: string, args: string[], opts: { cwd?: string; env: Record<string, string> }) {
  const transport = new StdioClientTransport({ command, args, cwd: opts.cwd, env: opts.env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => {
    stderr += d;
  });
  const client = new Client({ name: 'kubeflow-mcp-package-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const text = async (name: string) =>
      JSON.parse(((await client.callTool({ name, arguments: {} })) as any).content[0].text);
    return {
      tools,
      health: await text('health_check'),
      runtimes: await text('list_runtimes'),
      version: client.getServerVersion()?.version,
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}\nserver stderr:\n${stderr}`);
  } finally {
    await client.close();
  }
}

function expectServing(r: Awaited<ReturnType<typeof exercise>>) {
  expect(r.version).toBe(pkg.version);
  expect(r.tools).toEqual(expect.arrayContaining(['health_check', 'list_runtimes', 'get_training_job']));
  expect(r.health.success).toBe(true);
  // The runtimes come from the sandbox's manifests, read from the package at run time.
  expect(r.runtimes.success).toBe(true);
  expect(r.runtimes.data.runtimes.map((x: any) => x.name)).toContain('torchtune-llama3.2-1b');
}

let src = '';
let tarball = '';
let packStdout = '';

beforeAll(async () => {
  src = temp('kfmcp-pack-src-');
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const f of listed) {
    const from = join(ROOT, f);
    if (!existsSync(from) || statSync(from).isDirectory()) continue;
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(from, join(src, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  // Exactly what the README says to run; prepack builds dist/ first.
  packStdout = (await exec('npm', ['pack'], { cwd: src, env: shellEnv(), maxBuffer: 16 << 20 })).stdout;
  tarball = join(src, TARBALL);
}, 300_000);

describe('the npm package', () => {
  it('npm pack prints only the tarball name, so `npm install -g "$(npm pack)"` works', () => {
    expect(packStdout).toBe(`${TARBALL}\n`);
    expect(existsSync(tarball)).toBe(true);
  });

  it('holds the bundle, the entry point, the docs and the sandbox manifests, and nothing of tests or benches', () => {
    const listed = execFileSync('tar', ['-tzf', tarball])
      .toString()
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    const size = statSync(tarball).size;
    const top = new Map<string, number>();
    for (const f of listed) top.set(f.split('/')[0], (top.get(f.split('/')[0]) ?? 0) + 1);
    console.log(
      `${TARBALL}: ${listed.length} files, ${(size / 1024).toFixed(0)} kB (${[...top].map(([d, n]) => `${d} ${n}`).join(', ')})`,
    );
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'bin/kubeflow-mcp.mjs',
      'dist/cli.mjs',
      'dist/lazy/server.mjs',
      'dist/views/app.html',
    ])
      expect(listed, f).toContain(f);
    expect(listed.some((f) => f.startsWith('sandbox/manifests/crds/'))).toBe(true);
    expect(listed.some((f) => f.startsWith('sandbox/manifests/runtimes/'))).toBe(true);
    const stray = listed.filter(
      (f) =>
        !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/[^/]+\.mjs|dist\/.+\.mjs|dist\/views\/[^/]+\.html|sandbox\/manifests\/.+)$/.test(
          f,
        ),
    );
    expect(stray).toEqual([]);
    expect(readFileSync(join(src, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(size).toBeLessThan(3 * 1024 * 1024);
  });

  describe('installed from the tarball', () => {
    let local = '';
    let prefix = '';
    let installOutput = '';
    beforeAll(async () => {
      local = temp('kfmcp-install-');
      writeFileSync(
        join(local, 'package.json'),
        JSON.stringify({ name: 'kfmcp-try', version: '1.0.0', private: true }),
      );
      prefix = temp('kfmcp-global-');
      // Both installs at once; the packages come from npm's cache where it has them.
      const [a, b] = await Promise.all([
        exec('npm', [...NPM_INSTALL, tarball], { cwd: local, env: shellEnv(), maxBuffer: 16 << 20 }),
        exec('npm', [...NPM_INSTALL, '-g', '--prefix', prefix, tarball], {
          cwd: tmpdir(),
          env: shellEnv(),
          maxBuffer: 16 << 20,
        }),
      ]);
      installOutput = a.stdout + a.stderr + b.stdout + b.stderr;
    }, 600_000);

    const home = () => temp('kfmcp-home-');

    it('has no install scripts npm would ask about, and no sources to rebuild from', () => {
      expect(installOutput).not.toMatch(/install-scripts|EBADENGINE/);
      const dir = join(local, 'node_modules', pkg.name);
      expect(existsSync(join(dir, 'dist', 'cli.mjs'))).toBe(true);
      expect(existsSync(join(dir, 'runtime', 'cli.ts'))).toBe(false);
      expect(existsSync(join(dir, 'scripts'))).toBe(false);
    });

    it('npx kubeflow-mcp serve --sandbox answers tools/list and tool calls', async () => {
      expectServing(
        await exercise('npx', ['--no', 'kubeflow-mcp', 'serve', '--sandbox'], {
          cwd: local,
          env: shellEnv({ HOME: home() }),
        }),
      );
    }, 120_000);

    it('the global kubeflow-mcp, registered by name as `claude mcp add kubeflow -- kubeflow-mcp serve` does', async () => {
      expect(existsSync(join(prefix, 'bin', 'kubeflow-mcp'))).toBe(true);
      const env = shellEnv({ HOME: home(), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` });
      expectServing(await exercise('kubeflow-mcp', ['serve', '--sandbox'], { cwd: home(), env }));
    }, 120_000);
  });
});

// ---- the container image ----

interface Instruction {
  op: string;
  args: string;
  stage: number;
  line: number;
}
interface Stage {
  image: string;
  name?: string;
  first: number;
}

/** Instructions (continuations joined, comments and blank lines dropped) and the stages they fall in. */
function parseDockerfile(text: string) {
  const out: Instruction[] = [];
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i];
    if (!l.trim() || l.trim().startsWith('#')) continue;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + ' ' + lines[++i].trim();
    const [, op, args] = /^\s*(\S+)\s*(.*)$/.exec(l)!;
    if (op.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(args);
      stages.push({ image: m?.[1] ?? args, name: m?.[2], first: out.length });
    }
    out.push({ op: op.toUpperCase(), args: args.trim(), stage: stages.length - 1, line: start + 1 });
  }
  return { instructions: out, stages };
}

/** COPY's sources and destination, with its --from. */
function copyOf(i: Instruction) {
  const flags = [...i.args.matchAll(/--(\w+)=(\S+)/g)].reduce<Record<string, string>>(
    (o, m) => ({ ...o, [m[1]]: m[2] }),
    {},
  );
  const rest = i.args.replace(/--\w+=\S+\s*/g, '').trim();
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { from: flags.from, sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

describe('the container image', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const { instructions, stages } = parseDockerfile(text);
  const finalStage = stages.length - 1;
  const final = instructions.filter((i) => i.stage === finalStage);
  const buildStage = stages.findIndex((s) => s.name === 'build');
  const buildWorkdir = instructions.filter((i) => i.stage === buildStage && i.op === 'WORKDIR').at(-1)?.args ?? '/';
  const workdir = final.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
  const copies = final.filter((i) => i.op === 'COPY').map(copyOf);
  // The build stage's files the last stage takes, relative to the build's WORKDIR.
  const taken = copies.flatMap((c) => c.sources.map((s) => ({ path: posix.relative(buildWorkdir, s), dest: c.dest })));

  it('passes the lint rules: pinned bases, no ADD, exec-form entry point, non-root 10001, no secrets', () => {
    const problems: string[] = [];
    const at = (i: Instruction, msg: string) => problems.push(`Dockerfile:${i.line}: ${msg}`);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = new Set<string>();
    for (const i of instructions) {
      if (i.op === 'FROM') {
        const s = stages[i.stage];
        const ref = s.image;
        // DL3006/DL3007: an explicit tag naming a full version, or a digest; never latest.
        if (/(^|:)latest$/.test(ref)) at(i, `${ref}: the latest tag`);
        else if (!/@sha256:[a-f0-9]{64}$/.test(ref) && !/:\d+\.\d+\.\d+(-[\w.-]+)?$/.test(ref))
          at(i, `${ref}: not pinned to a full version`);
        if (s.name) {
          if (names.has(s.name)) at(i, `stage name ${s.name} used twice`);
          names.add(s.name);
        }
      }
      if (i.op === 'ADD') at(i, 'ADD (DL3020): COPY local files; fetch URLs in a RUN that checks them');
      if (i.op === 'MAINTAINER') at(i, 'MAINTAINER is deprecated (DL4000)');
      if (/\blatest\b/.test(i.args)) at(i, '"latest" in an instruction');
      if (i.op === 'WORKDIR' && !i.args.startsWith('/')) at(i, 'relative WORKDIR (DL3000)');
      if (i.op === 'RUN') {
        if (/\bsudo\b/.test(i.args)) at(i, 'sudo (DL3004)');
        if (/\bnpm (i|install)\b/.test(i.args)) at(i, 'npm install: use npm ci against the lockfile');
        if (/\bapt(-get)? (upgrade|dist-upgrade)\b/.test(i.args)) at(i, 'apt upgrade (DL3005)');
        if (
          /\|/.test(i.args.replace(/\|\|/g, '')) &&
          !instructions.some((s) => s.op === 'SHELL' && s.stage === i.stage && /pipefail/.test(s.args))
        )
          at(i, 'a pipe without SHELL ... -o pipefail (DL4006)');
        if (/\bcd\s/.test(i.args)) at(i, 'cd in RUN: use WORKDIR (DL3003)');
      }
      if ((i.op === 'ENV' || i.op === 'ARG') && /(TOKEN|SECRET|PASSWORD|PRIVATE_KEY|API_KEY)/i.test(i.args))
        at(i, 'a secret-looking ENV/ARG is baked into the image');
      if (i.op === 'COPY') {
        const from = copyOf(i).from;
        if (from && !/^\d+$/.test(from) && !stages.slice(0, i.stage).some((s) => s.name === from))
          at(i, `COPY --from=${from}: no earlier stage of that name (DL3022)`);
        if (from && from === stages[i.stage].name) at(i, 'COPY --from its own stage (DL3023)');
      }
      if ((i.op === 'ENTRYPOINT' || i.op === 'CMD') && !i.args.startsWith('[')) at(i, `${i.op} in shell form (DL3025)`);
    }
    // The last stage: nothing installed or run at build time, a numeric non-root user before the entry point.
    for (const i of final)
      if (i.op === 'RUN') at(i, 'RUN in the runtime stage: everything is prepared in the build stage');
    const users = final.filter((i) => i.op === 'USER');
    if (users.at(-1)?.args !== '10001:10001') problems.push('the runtime stage must end as USER 10001:10001');
    const entry = final.findIndex((i) => i.op === 'ENTRYPOINT');
    if (entry < 0 || final.findIndex((i) => i.op === 'USER') > entry) problems.push('USER must come before ENTRYPOINT');
    const expose = final.find((i) => i.op === 'EXPOSE')?.args;
    const cmd = final.find((i) => i.op === 'CMD');
    if (!expose || !cmd || !JSON.parse(cmd.args).includes(`--port=${expose}`))
      problems.push('EXPOSE and the CMD port disagree');
    for (const c of copies)
      if (c.from !== 'build') problems.push(`runtime stage COPY of ${c.sources.join(' ')} not from the build stage`);
    expect(problems).toEqual([]);
    // The build context leaves out what the image never needs.
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'test', 'bench']));
  });

  it('takes from the build stage only package.json, bin, dist, the sandbox manifests and the packages the bundle imports', () => {
    const externals = JSON.parse(readFileSync(join(src, 'dist', 'externals.json'), 'utf8'));
    // The packages those need in turn (none today, as yaml has no dependencies).
    const closure = new Set<string>();
    const add = (name: string) => {
      if (closure.has(name)) return;
      closure.add(name);
      const meta = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      for (const d of Object.keys(meta.dependencies ?? {})) add(d);
    };
    for (const n of externals.required) add(n);
    expect([...closure]).toContain('yaml');
    const modules = taken
      .filter((t) => t.path.startsWith('node_modules/'))
      .map((t) => t.path.slice('node_modules/'.length));
    expect(modules.sort()).toEqual([...closure].sort());
    expect(
      taken
        .filter((t) => !t.path.startsWith('node_modules/'))
        .map((t) => t.path)
        .sort(),
    ).toEqual(['bin', 'dist', 'package.json', 'sandbox/manifests']);
    // The same files as the npm package (its README, LICENSE and CHANGELOG aside).
    const shipped = (pkg.files as string[])
      .filter((f) => !f.startsWith('!') && !/^(README|LICENSE|CHANGELOG)/.test(f))
      .map((f) => f.replace(/\/$/, ''));
    expect(['package.json', ...shipped].sort()).toEqual(['bin', 'dist', 'package.json', 'sandbox/manifests']);
    // Each optional import is a require inside a try that the code does without; none is a dependency.
    for (const n of externals.optional) expect(pkg.dependencies[n], n).toBeUndefined();
  });

  it('serves from a folder holding only what the runtime stage copies, as uid 10001 on files it cannot write', async () => {
    const root = temp('kfmcp-image-');
    chmodSync(root, 0o755);
    // Nothing above the folder may supply a package the image would lack.
    for (let d = root; dirname(d) !== d; d = dirname(d))
      expect(existsSync(join(dirname(d), 'node_modules')), dirname(d)).toBe(false);
    const app = join(root, workdir);
    for (const t of taken) {
      const dest = isAbsolute(t.dest) ? join(root, t.dest) : join(app, t.dest);
      const into = t.dest.endsWith('/') ? join(dest, posix.basename(t.path)) : dest;
      mkdirSync(dirname(into), { recursive: true });
      cpSync(join(src, t.path), into, { recursive: true, dereference: true });
    }
    if (existsSync(join(app, 'dist', 'cli.inputs.json'))) rmSync(join(app, 'dist', 'cli.inputs.json'));
    for (let d = app; d !== root; d = dirname(d)) chmodSync(d, 0o755);
    const size = sizeOf(app);
    console.log(`image contents on top of the base: ${mb(size)} in ${files(app).length} files (budget 10 MB)`);
    expect(size).toBeLessThan(10 * 1024 * 1024);

    const entry = JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry[0]).toBe('node');
    const script = join(root, entry[1]);
    const envs = Object.fromEntries(final.filter((i) => i.op === 'ENV').map((i) => i.args.split('=')));
    const env = { PATH: process.env.PATH!, HOME: '/', ...envs };
    // As the image's user where this runs as root (the files stay root's, so the app folder is read-only to it).
    const asImageUser = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
    const [command, args] = asImageUser
      ? [
          '/usr/bin/setpriv',
          ['--reuid=10001', '--regid=10001', '--clear-groups', process.execPath, script, 'serve', '--sandbox'],
        ]
      : [process.execPath, [script, 'serve', '--sandbox']];
    expectServing(await exercise(command as string, args as string[], { cwd: app, env }));
  }, 120_000);
});

// ---- registry and client files ----

describe('server.json and .mcp.json', () => {
  const server = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8'));
  const mcp = JSON.parse(readFileSync(join(ROOT, '.mcp.json'), 'utf8'));

  it('server.json is a registry manifest for this package and its image', () => {
    expect(server.$schema).toBe('https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json');
    expect(server.name).toMatch(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(pkg.version);
    expect(server.description.length).toBeLessThanOrEqual(100);
    for (const p of server.packages) {
      for (const k of ['registryType', 'identifier', 'version', 'transport'])
        expect(p[k], `${p.registryType}.${k}`).toBeDefined();
      expect(p.version).toBe(pkg.version);
      expect(['stdio', 'streamable-http', 'sse']).toContain(p.transport.type);
      for (const a of [...(p.packageArguments ?? []), ...(p.runtimeArguments ?? [])]) {
        expect(['positional', 'named']).toContain(a.type);
        if (a.type === 'named') expect(a.name).toMatch(/^-/);
        else expect(a.value ?? a.valueHint).toBeDefined();
      }
    }
    const npm = server.packages.find((p: any) => p.registryType === 'npm');
    expect(npm).toMatchObject({
      identifier: pkg.name,
      registryBaseUrl: 'https://registry.npmjs.org',
      transport: { type: 'stdio' },
    });
    expect(npm.packageArguments[0]).toMatchObject({ type: 'positional', value: 'serve' });
    // The arguments are ones `serve` accepts, with the values it accepts.
    const help = execFileSync(process.execPath, [join(src, 'bin', 'kubeflow-mcp.mjs'), 'serve', '--help'], {
      encoding: 'utf8',
    });
    for (const a of npm.packageArguments.filter((x: any) => x.type === 'named')) expect(help, a.name).toContain(a.name);
    const persona = npm.packageArguments.find((a: any) => a.name === '--persona');
    expect(persona.choices).toEqual(['readonly', 'data-scientist', 'ml-engineer', 'platform-admin']);
    const oci = server.packages.find((p: any) => p.registryType === 'oci');
    expect(oci.identifier).not.toMatch(/:/);
    expect(oci.packageArguments[0]).toMatchObject({ type: 'positional', value: 'serve' });
  });

  it("the README's client configurations parse and start `kubeflow-mcp serve` with flags it accepts", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /^## Connect a client\n([\s\S]*?)^## /m.exec(readme)![1];
    const blocks = [...section.matchAll(/```(json|toml|bash)\n([\s\S]*?)```/g)].map((m) => ({
      lang: m[1],
      text: m[2],
    }));
    const help = execFileSync(process.execPath, [join(src, 'bin', 'kubeflow-mcp.mjs'), 'serve', '--help'], {
      encoding: 'utf8',
    });
    const checkArgs = (args: string[]) => {
      expect(args[0]).toBe('serve');
      for (const a of args.filter((x) => x.startsWith('--'))) expect(help, a).toContain(a.split('=')[0]);
    };
    const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.text));
    expect(json).toHaveLength(3);
    for (const j of json) {
      const entry = (j.mcpServers ?? j.servers).kubeflow;
      expect(entry.command).toBe(pkg.name);
      checkArgs(entry.args);
    }
    expect(json.filter((j) => j.servers)).toHaveLength(1); // VS Code's key
    const toml = blocks.find((b) => b.lang === 'toml')!.text;
    expect(toml).toMatch(/^\[mcp_servers\.kubeflow\]$/m);
    expect(/^command = "(.+)"$/m.exec(toml)![1]).toBe(pkg.name);
    checkArgs(JSON.parse(/^args = (\[.*\])$/m.exec(toml)![1]));
    const claude = section.split('\n').find((l) => l.startsWith('claude mcp add --scope user kubeflow'))!;
    checkArgs(claude.split(' -- ')[1].split(' ').slice(1));
  });

  it(".mcp.json starts this checkout's bin on the sandbox, and package.json names that bin", () => {
    expect(pkg.bin[pkg.name]).toBe('bin/kubeflow-mcp.mjs');
    const entry = mcp.mcpServers.kubeflow;
    expect(entry.command).toBe('node');
    expect(entry.args.slice(0, 3)).toEqual([pkg.bin[pkg.name], 'serve', '--sandbox']);
    const help = execFileSync(process.execPath, [join(src, 'bin', 'kubeflow-mcp.mjs'), 'serve', '--help'], {
      encoding: 'utf8',
    });
    for (const a of entry.args.filter((x: string) => x.startsWith('--'))) expect(help, a).toContain(a);
    expect(pkg.scripts.inspector).toBe('node scripts/inspector.mjs');
    expect(pkg.scripts.prepack).toMatch(/scripts\/build\.mjs/);
    expect(pkg.scripts.prepare).toBeUndefined();
  });
});
