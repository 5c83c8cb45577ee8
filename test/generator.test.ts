// The generator: spec errors name the file and path; a clean tree is current (gen:check).
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadSpecs } from '../generator/load.ts';
import { generate } from '../generator/generate.ts';

const ROOT = join(import.meta.dirname, '..');

function specsWith(file: string, edit: (text: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-specs-'));
  cpSync(join(ROOT, 'specs'), dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

const cases: Array<{ name: string; file: string; edit: (s: string) => string; want: RegExp; handlers?: (t: string) => boolean }> = [
  { name: 'unknown key', file: 'tools/health_check.yaml', edit: (s) => s + 'colour: blue\n', want: /specs\/tools\/health_check\.yaml: \(root\): must NOT have additional properties \(unknown key "colour"\)/ },
  { name: 'bad enum', file: 'tools/health_check.yaml', edit: (s) => s.replace('phase: health', 'phase: nowhere'), want: /health_check\.yaml: phase: unknown phase "nowhere"/ },
  { name: 'dangling $ref', file: 'tools/get_training_job.yaml', edit: (s) => s.replace('defs#/jobName', 'defs#/nothing'), want: /get_training_job\.yaml: dangling \$ref "defs#\/nothing"/ },
  { name: 'next hint names no tool', file: 'tools/list_runtimes.yaml', edit: (s) => s.replace('get_runtime(name)', 'describe_runtime(name)'), want: /list_runtimes\.yaml: next: names "describe_runtime\(\)", which is no tool or prompt/ },
  { name: 'mutating tool without a preview', file: 'tools/patch_runtime.yaml', edit: (s) => s.replace('confirm: true\n', ''), want: /patch_runtime\.yaml: confirm: a mutating tool must preview first/ },
  { name: 'unknown input keyword', file: 'tools/get_runtime.yaml', edit: (s) => s.replace('name: {$ref: "defs#/runtimeName"}', 'name: {$ref: "defs#/runtimeName", colour: red}'), want: /get_runtime\.yaml: inputs\.properties\.name: .*unknown keyword "colour"/ },
  { name: 'an include naming no property group', file: 'tools/fine_tune.yaml', edit: (s) => s.replace('include: [scheduling]', 'include: [nothing]'), want: /fine_tune\.yaml: inputs\.include: "nothing" is not a property group in defs\.yaml/ },
  { name: 'an include clashing with an own input', file: 'tools/fine_tune.yaml', edit: (s) => s.replace('    confirmed: {$ref: "defs#/confirmed"}', '    confirmed: {$ref: "defs#/confirmed"}\n    labels: {type: object}'), want: /fine_tune\.yaml: inputs\.include: "scheduling" redefines input "labels"/ },
  { name: 'custom handler file missing', file: 'tools/health_check.yaml', edit: (s) => s, want: /health_check\.yaml: handler: runtime\/handlers\/health_check\.ts does not exist/, handlers: (t) => t !== 'health_check' },
  { name: 'handler file without the flag', file: 'tools/delete_training_job.yaml', edit: (s) => s, want: /delete_training_job\.yaml: handler: runtime\/handlers\/delete_training_job\.ts exists but the spec does not say handler: custom/, handlers: () => true },
];

describe('spec checks', () => {
  for (const c of cases) {
    it(`reports ${c.name}`, async () => {
      const dir = specsWith(c.file, c.edit);
      const handlers = c.handlers ?? ((t: string) => t !== 'delete_training_job' && t !== 'update_training_job');
      await expect((async () => generate(loadSpecs(dir), { handlerExists: handlers }))()).rejects.toThrow(c.want);
    });
  }
});

describe('generate', () => {
  it('is deterministic and writes every tool, validator, instruction tier and doc page', async () => {
    const specs = loadSpecs(join(ROOT, 'specs'));
    const handlers = (t: string) => specs.tools.find((x) => x.name === t)?.handler === 'custom';
    const a = await generate(specs, { handlerExists: handlers });
    const b = await generate(loadSpecs(join(ROOT, 'specs')), { handlerExists: handlers });
    expect([...a]).toEqual([...b]);
    expect([...a.keys()].filter((k) => k.startsWith('generated/tools/'))).toHaveLength(specs.tools.length);
    expect([...a.keys()]).toEqual(expect.arrayContaining(['generated/index.ts', 'generated/validators.ts', 'generated/docs/tools.md', 'generated/docs/instructions-minimal.md']));
    for (const text of a.values()) expect(text).not.toMatch(/\/work\/|\d{4}-\d\d-\d\dT\d\d:\d\d/);
  });

  it('gen:check passes on the committed tree and fails after a spec edit', () => {
    expect(execFileSync('npx', ['tsx', 'generator/cli.ts', '--check'], { cwd: ROOT, encoding: 'utf8' })).toContain('are current');
    const file = join(ROOT, 'specs/tools/health_check.yaml');
    const before = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, before.replace('Server uptime', 'The server uptime'));
      let err = '';
      try { execFileSync('npx', ['tsx', 'generator/cli.ts', '--check'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }); } catch (e: any) { err = e.stderr; }
      expect(err).toContain('stale: generated/tools/health_check.ts');
    } finally {
      writeFileSync(file, before);
    }
  });
});
