// Golden output of the generator for a small fixture corpus (test/fixtures/generator/specs). The
// goldens are TypeScript under test/, so `npm run typecheck` type-checks the generated code too.
// Regenerate with UPDATE_SNAPSHOTS=1 after an intended change to the emitters.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadSpecs } from '../generator/load.ts';
import { generate } from '../generator/generate.ts';

const ROOT = join(import.meta.dirname, '..');
const FIX = join(import.meta.dirname, 'fixtures', 'generator');
const GOLDEN = join(FIX, 'golden');
const walk = (d: string): string[] =>
  existsSync(d)
    ? readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
      )
    : [];

describe('generator golden files', () => {
  it('emits exactly the committed golden output for the fixture corpus', async () => {
    const files = await generate(loadSpecs(join(FIX, 'specs'), join(ROOT, 'specs', 'schema')), {
      handlerExists: () => false,
    });
    if (process.env.UPDATE_SNAPSHOTS) {
      rmSync(GOLDEN, { recursive: true, force: true });
      for (const [p, text] of files) {
        mkdirSync(dirname(join(GOLDEN, p)), { recursive: true });
        writeFileSync(join(GOLDEN, p), text);
      }
    }
    const onDisk = walk(GOLDEN)
      .map((f) => relative(GOLDEN, f))
      .sort();
    expect(onDisk).toEqual([...files.keys()]);
    for (const [p, text] of files) expect(text, p).toBe(readFileSync(join(GOLDEN, p), 'utf8'));
  });

  it('the generated validator applies defaults and reports the failing field', async () => {
    const { TOOLS } = await import('./fixtures/generator/golden/generated/index.ts');
    const list = TOOLS.find((t: any) => t.name === 'list_things')!;
    const input: Record<string, unknown> = {};
    expect((await list.validator())(input)).toBe(true);
    expect(input).toEqual({ limit: 5 });
    const del = TOOLS.find((t: any) => t.name === 'delete_thing')!;
    const validate = await del.validator();
    expect(validate({ name: 'Bad!' })).toBe(false);
    expect(validate.errors![0]).toMatchObject({ instancePath: '/name', keyword: 'pattern' });
    // The generator gives every Kubernetes tool a context input; tools/list leaves it out with one context.
    expect(del.inputSchema).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        confirmed: { type: 'boolean', default: false },
        context: { type: 'string', description: 'kubeconfig context to run against (see list_contexts)' },
      },
      required: ['name'],
    });
    expect(Object.keys((del.listedInputSchema as any).properties)).toEqual(['name', 'namespace', 'confirmed']);
    expect(del.listedAnnotations).toEqual({ idempotentHint: true });
  });

  it('gives each persona its instructions per tier', async () => {
    const { assembleInstructions, INSTRUCTION_SOURCE, PERSONA_TOOLS } = await import(
      './fixtures/generator/golden/generated/index.ts'
    );
    const text = (persona: string, tier: 'full' | 'compact' | 'minimal') =>
      assembleInstructions(INSTRUCTION_SOURCE, new Set(PERSONA_TOOLS[persona]), tier);
    expect(text('viewer', 'full')).toContain('list_things()');
    expect(text('viewer', 'full')).not.toContain('LIFECYCLE');
    expect(text('operator', 'full')).toContain('LIFECYCLE');
    expect(text('operator', 'compact')).not.toContain('trainer://');
    expect(text('operator', 'minimal')).toBe('Fixture server.\n\nDISCOVERY: list_things\n\nLIFECYCLE: delete_thing\n');
    // A line naming a tool the persona lacks is left out, even inside a section it can see.
    const src = {
      ...INSTRUCTION_SOURCE,
      sections: [
        {
          tools: ['list_things'],
          lines: ['DISCOVERY', '- list_things() lists them.', '- then delete_thing(name) removes one.'],
        },
      ],
    };
    expect(assembleInstructions(src, new Set(['list_things']), 'full')).not.toContain('delete_thing');
  });
});
