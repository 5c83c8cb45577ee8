// The files the sandbox serves from (the Trainer CRDs and runtimes, the Model Registry's OpenAPI
// document), found next to the sandbox's own code: in a source checkout and in an installed
// package alike, sandbox/manifests/ sits in a folder above every module of the sandbox (its sources
// under sandbox/, the bundle under dist/), so the first one found walking up is ours.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

/** Every object of every YAML file in a folder of manifests/, files in name order. */
export function loadManifestFolder(name: string): any[] {
  const dir = manifestPath(name);
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => loadYamlObjects(readFileSync(join(dir, f), 'utf8')));
}

let crdCache: any[] | undefined;

/** The CustomResourceDefinitions the sandbox serves, parsed once per process; each call gets its own copy. */
export function loadCrds(): any[] {
  crdCache ??= loadManifestFolder('crds');
  return structuredClone(crdCache);
}
