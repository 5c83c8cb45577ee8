// A copy of the project in a temp folder, for tests that edit specs or run the generator: the
// checkout itself is never changed, so test files running beside them read what is committed.
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const PARTS = [
  'specs',
  'generator',
  'generated',
  'runtime',
  'sandbox',
  'views',
  'docs',
  'bin',
  'scripts',
  'bench/results',
  'test/fixtures/example-answers.json',
  'package.json',
  'tsconfig.json',
  'README.md',
];

export function copyProject(prefix: string): string {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  // The docs site's build output and cache are left out: they are large and nothing reads them.
  const built = /docs[\\/]\.vitepress[\\/](cache|dist)$/;
  for (const d of PARTS) cpSync(join(ROOT, d), join(copy, d), { recursive: true, filter: (src) => !built.test(src) });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}
