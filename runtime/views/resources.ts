// The views as ui:// resources: listed for clients that declare the MCP Apps extension, each the
// one self-contained HTML page scripts/build.mjs makes from views/ (no network, no CDN), told
// which view to show by an attribute on its root element.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViewDecl } from '../../generated/types.ts';
import { VIEWS } from '../../generated/views.ts';
import { VIEW_MIME } from './links.ts';

/** Where the build puts the page, under the package root. */
export const VIEW_PAGE = 'dist/views/app.html';

/** The views some tool of this caller opens. */
export function viewsFor(tools: Set<string>): ViewDecl[] {
  return VIEWS.filter((v) => Object.keys(v.tools).some((t) => tools.has(t)));
}

export function viewResources(tools: Set<string>) {
  return viewsFor(tools).map((v) => ({
    uri: v.uri,
    name: `view-${v.name}`,
    title: v.title,
    description: v.description,
    mimeType: VIEW_MIME,
  }));
}

/** The package root, from source (tsx) or from the bundle in dist/: the nearest folder with package.json. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('kubeflow-mcp: cannot find the package root');
  }
}

let page: string | undefined;
function loadPage(): string {
  if (page) return page;
  const file = join(packageRoot(), VIEW_PAGE);
  if (!existsSync(file)) throw new Error(`The views are not built (${VIEW_PAGE} is missing): run npm run build`);
  return (page = readFileSync(file, 'utf8'));
}

/** resources/read of a view, or undefined for another URI. */
export function readView(uri: string) {
  const v = VIEWS.find((x) => x.uri === uri);
  if (!v) return undefined;
  const text = loadPage().replace(/<html\b/, `<html data-view="${v.name}"`);
  // No connect or resource domains: the page loads nothing; it reaches the server only through the host.
  return { contents: [{ uri, mimeType: VIEW_MIME, text, _meta: { ui: { prefersBorder: true } } }] };
}
