// `npm run gen` rewrites generated/ from specs/; `npm run gen:check` compares in memory and
// exits 1 naming every stale, missing or orphan file.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpecs, SpecError } from './load.ts';
import { generate, readmeSearch, readmeSummary } from './generate.ts';
import { readmeSettings } from './settings.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

try {
  const specs = loadSpecs(join(root, 'specs'));
  // The tools of the last generated output, so a budget error can name the new ones.
  const sessionPath = join(root, 'generated/session.ts');
  const previousTools = existsSync(sessionPath)
    ? new Set([...readFileSync(sessionPath, 'utf8').matchAll(/^ {2}\{"name":"([a-z0-9_]+)"/gm)].map((m) => m[1]))
    : undefined;
  const files = await generate(specs, {
    handlerExists: (tool) => existsSync(join(root, 'runtime/handlers', `${tool}.ts`)),
    previousTools,
    notes: (text) => console.log(`note: ${text}`),
  });
  const onDisk = listFiles(join(root, 'generated')).map((f) => relative(root, f));
  // The README's generated blocks (between their markers), so its counts and figures stay true:
  // the tool summary from the specs, the search figure from the bench's last run, the table of
  // settings from specs/settings.yaml.
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const latestPath = join(root, 'bench/results/latest.json');
  const latest = existsSync(latestPath) ? JSON.parse(readFileSync(latestPath, 'utf8')) : undefined;
  const blocks: Record<string, string> = {
    tools: readmeSummary(specs),
    search: readmeSearch(latest),
    settings: readmeSettings(specs.settings),
  };
  let readmeNext = readme;
  for (const [name, text] of Object.entries(blocks)) {
    const marked = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- \\/generated:${name} -->)`);
    if (!marked.test(readmeNext)) throw new SpecError(`README.md: the <!-- generated:${name} --> markers are missing`);
    readmeNext = readmeNext.replace(marked, (_m, a, b) => `${a}${text}\n${b}`);
  }
  if (check) {
    const problems: string[] = [];
    for (const [path, text] of files) {
      const abs = join(root, path);
      if (!existsSync(abs)) problems.push(`missing: ${path}`);
      else if (readFileSync(abs, 'utf8') !== text) problems.push(`stale: ${path}`);
    }
    for (const f of onDisk) if (!files.has(f)) problems.push(`orphan: ${f}`);
    if (readmeNext !== readme) problems.push('stale: README.md (a generated block: tools, search or settings)');
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
  if (e instanceof SpecError) {
    console.error(`spec error:\n${e.message}`);
    process.exit(2);
  }
  throw e;
}
