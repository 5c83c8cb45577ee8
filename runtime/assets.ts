// Finds files shipped with the package (manifests, specs) whether we run from source (tsx) or
// from the bundled dist/ build: both live under the package root.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('kubeflow-mcp: cannot find the package root');
    dir = up;
  }
  return (root = dir);
}

export const assetPath = (rel: string) => join(packageRoot(), rel);
