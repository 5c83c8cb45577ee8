// The files the sandbox serves from (the Trainer CRDs and runtimes, the Model Registry's OpenAPI
// document), found next to the sandbox's own code: in a source checkout and in an installed
// package alike, sandbox/manifests/ sits in a folder above every module of the sandbox (its sources
// under sandbox/, the bundle under dist/), so the first one found walking up is ours.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

let folder: string | undefined;

function manifestsFolder(): string {
  if (folder) return folder;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'sandbox', 'manifests'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('sandbox: cannot find its manifests folder (sandbox/manifests)');
    dir = up;
  }
  return (folder = join(dir, 'sandbox', 'manifests'));
}

/** A path inside sandbox/manifests/. */
export const manifestPath = (...parts: string[]) => join(manifestsFolder(), ...parts);

/** The objects of a YAML stream; a List (kind ...List with items) or an `objects:` array is unpacked. */
export function loadYamlObjects(text: string): any[] {
  const out: any[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
    const v = doc.toJS();
    if (!v) continue;
    if (Array.isArray(v)) out.push(...v);
    else if (v.kind?.endsWith('List') && Array.isArray(v.items)) out.push(...v.items);
    else if (Array.isArray(v.objects)) out.push(...v.objects);
    else out.push(v);
  }
  return out;
}

/**
 * Every object of every YAML file in a folder of manifests/, files in name order. Parsing the CRDs'
 * 2 MB of YAML takes about half a second, paid by every process that starts a sandbox (each test
 * file, each `serve --sandbox`), so the parsed form is kept as JSON in the temp folder under a hash
 * of the files' names and text: a change to any file misses the cache, and a bad cache is never read twice.
 */
export function loadManifestFolder(name: string): any[] {
  const dir = manifestPath(name);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ f, text: readFileSync(join(dir, f), 'utf8') }));
  const hash = createHash('sha256');
  for (const { f, text } of files) hash.update(`${f}\u0000${text}\u0000`);
  const cached = join(tmpdir(), 'kubeflow-mcp-sandbox', `${name}-${hash.digest('hex').slice(0, 24)}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8'));
  } catch {
    // Not cached yet (or unreadable): parse, then write it whole under a temporary name and rename,
    // so a process reading at the same time sees the old state or the new one, never half a file.
    const objects = files.flatMap(({ text }) => loadYamlObjects(text));
    try {
      mkdirSync(dirname(cached), { recursive: true });
      const partial = `${cached}.${process.pid}.tmp`;
      writeFileSync(partial, JSON.stringify(objects));
      renameSync(partial, cached);
    } catch {
      // A read-only or full temp folder only costs the next process the parse.
    }
    return objects;
  }
}

let crdCache: any[] | undefined;

/** The CustomResourceDefinitions the sandbox serves, parsed once per process; each call gets its own copy. */
export function loadCrds(): any[] {
  crdCache ??= loadManifestFolder('crds');
  return structuredClone(crdCache);
}
