// `npm run gen` rewrites generated/ from specs/; `npm run gen:check` compares in memory and
// exits 1 naming every stale, missing or orphan file.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpecs, SpecError } from './load.ts';
import { generate, readmeSummary } from './generate.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

try {
  const specs = loadSpecs(join(root, 'specs'));
  const files = await generate(specs, { handlerExists: (tool) => existsSync(join(root, 'runtime/handlers', `${tool}.ts`)) });
  const onDisk = listFiles(join(root, 'generated')).map((f) => relative(root, f));
  // The README's summary block is generated too (between its markers), so its counts stay true.
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const marked = /(<!-- generated:tools -->\n)[\s\S]*?(<!-- \/generated:tools -->)/;
  if (!marked.test(readme)) throw new SpecError('README.md: the <!-- generated:tools --> markers are missing');
  const readmeNext = readme.replace(marked, (_m, a, b) => `${a}${readmeSummary(specs)}\n${b}`);
  if (check) {
    const problems: string[] = [];
    for (const [path, text] of files) {
      const abs = join(root, path);
      if (!existsSync(abs)) problems.push(`missing: ${path}`);
      else if (readFileSync(abs, 'utf8') !== text) problems.push(`stale: ${path}`);
    }
    for (const f of onDisk) if (!files.has(f)) problems.push(`orphan: ${f}`);
    if (readmeNext !== readme) problems.push('stale: README.md (the generated:tools block)');
    if (problems.length) {
      console.error(`generated/ is out of date with specs/ (run \`npm run gen\`):\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`gen:check: ${files.size} generated files are current`);
  } else {
    rmSync(join(root, 'generated'), { recursive: true, force: true });
    for (const [path, text] of files) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    if (readmeNext !== readme) writeFileSync(readmePath, readmeNext);
    console.log(`gen: wrote ${files.size} files to generated/`);
  }
} catch (e) {
  if (e instanceof SpecError) { console.error(`spec error:\n${e.message}`); process.exit(2); }
  throw e;
}
