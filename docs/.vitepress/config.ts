// The docs site: VitePress renders the page sources the generator writes into generated/site/
// (`npm run gen`) with this configuration and the theme beside it. `npm run docs:build` writes
// docs/.vitepress/dist/ (not committed); `npm run docs:dev` serves the same with live reload.
//
// Dead internal links fail the build (VitePress's default; ignoreDeadLinks stays unset).
// DOCS_BASE sets the path the site is served under (default /); the release workflow sets it
// per tag. The version menu lists the repository's v* tags.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { writeLlmsFiles } from './llms.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const srcDir = join(root, 'generated', 'site');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; description: string };
const sidebar = JSON.parse(readFileSync(join(srcDir, 'sidebar.json'), 'utf8')) as DefaultTheme.SidebarMulti;
const base = process.env.DOCS_BASE ?? '/';

/** The released versions, newest first: the repository's v* tags (none outside a git checkout). */
function versions(): string[] {
  try {
    return execFileSync('git', ['tag', '--list', 'v*', '--sort=-v:refname'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Where the published versions live side by side (each tag under its own folder). */
const siteUrl = process.env.DOCS_SITE_URL?.replace(/\/$/, '');
const current = process.env.DOCS_VERSION ?? `v${pkg.version}`;
const versionMenu: DefaultTheme.NavItem = {
  text: current,
  items: [
    { text: `${current} (this site)`, link: '/' },
    ...(siteUrl
      ? versions()
          .filter((v) => v !== current)
          .map((v) => ({ text: v, link: `${siteUrl}/${v}/` }))
      : []),
  ],
};

export default defineConfig({
  title: 'kubeflow-mcp',
  description: pkg.description,
  lang: 'en-US',
  base,
  srcDir,
  outDir: join(here, 'dist'),
  cacheDir: join(root, 'node_modules', '.cache', 'vitepress'),
  // Pages are generated from the specs; a link to a page that does not exist fails the build.
  cleanUrls: false,
  lastUpdated: false,
  head: [['meta', { name: 'theme-color', content: '#3451b2' }]],
  markdown: {
    // Code colours with at least 4.5:1 contrast on the code background.
    theme: { light: 'github-light-high-contrast', dark: 'github-dark-high-contrast' },
    config(md) {
      // Inline code is shown as written, never read as Vue markup (fenced code already is).
      const inline = md.renderer.rules.code_inline!;
      md.renderer.rules.code_inline = (...args) => inline(...args).replace(/^<code/, '<code v-pre');
    },
  },
  themeConfig: {
    nav: [
      { text: 'Personas', link: '/personas/', activeMatch: '^/personas/' },
      { text: 'Tools', link: '/tools/', activeMatch: '^/tools/' },
      { text: 'Guides', link: '/guides/', activeMatch: '^/guides/' },
      {
        text: 'Reference',
        items: [
          { text: 'Prompts', link: '/prompts' },
          { text: 'CLI and configuration', link: '/reference/cli' },
          { text: 'Deployment: Helm values', link: '/reference/helm' },
          { text: 'The operation language', link: '/reference/operations' },
          // Not a page: VitePress leaves such a link as written, so it carries the base itself.
          { text: 'llms.txt', link: `${base}llms.txt`, target: '_self' },
        ],
      },
      versionMenu,
    ],
    sidebar,
    outline: { level: [2, 3], label: 'On this page' },
    search: { provider: 'local' },
    docFooter: { prev: 'Previous page', next: 'Next page' },
    footer: {
      message: `kubeflow-mcp ${current}. Released under the Apache-2.0 licence.`,
      copyright: 'Generated from the tool specs.',
    },
  },
  async buildEnd(site) {
    writeLlmsFiles({
      srcDir: site.srcDir,
      outDir: site.outDir,
      pages: site.pages,
      base,
      title: 'kubeflow-mcp',
      summary: pkg.description,
    });
  },
});
