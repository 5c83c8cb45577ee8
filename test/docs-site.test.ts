// The docs site in a real browser: the built site (docs/.vitepress/dist, built here when missing or
// older than its sources) served on 127.0.0.1 by a small static server, driven in Debian's Chromium
// with playwright-core. A reader goes persona -> tier -> tool and searches; a readonly page lists no
// mutating tool; axe checks landmarks and contrast; the pages say what the server really sends.
// Screenshots go to docs/.vitepress/dist/screenshots/, and to docs/screenshots/ (committed, shown in
// the README) with UPDATE_SCREENSHOTS=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { TOOLS } from '../generated/index.ts';
import { instructionsFor, selectListed, toolsListJson } from '../runtime/listing.ts';
import { loadSpecs } from '../generator/load.ts';
import { generate } from '../generator/generate.ts';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'docs', '.vitepress', 'dist');
const SHOTS = [
  join(DIST, 'screenshots'),
  ...(process.env.UPDATE_SCREENSHOTS ? [join(ROOT, 'docs', 'screenshots')] : []),
];
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const newest = (dir: string): number =>
  existsSync(dir)
    ? Math.max(
        0,
        ...readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.name !== 'dist' && e.name !== 'screenshots')
          .map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
      )
    : 0;

/** Builds the site unless a build newer than every source is there already. */
function ensureBuilt() {
  const built = existsSync(join(DIST, 'index.html')) ? statSync(join(DIST, 'index.html')).mtimeMs : 0;
  if (
    !process.env.DOCS_REBUILD &&
    built > Math.max(newest(join(ROOT, 'generated', 'site')), newest(join(ROOT, 'docs')))
  )
    return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vitepress', 'bin', 'vitepress.js'), 'build', 'docs'], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 90_000,
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/** The built site over loopback, as a static host serves it (folder -> index.html, 404.html). */
function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    let file = join(DIST, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    else if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`;
    const found = file.startsWith(DIST) && existsSync(file);
    res.writeHead(found ? 200 : 404, {
      'content-type': TYPES[extname(found ? file : '.html')] ?? 'application/octet-stream',
    });
    res.end(readFileSync(found ? file : join(DIST, '404.html')));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

let browser: Browser;
let server: Server;
let base = '';
let page: Page;

beforeAll(async () => {
  ensureBuilt();
  ({ server, url: base } = await serve());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  page.setDefaultTimeout(10_000);
  for (const d of SHOTS) mkdirSync(d, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  server?.close();
});

const shot = async (name: string) => {
  for (const d of SHOTS) await page.screenshot({ path: join(d, `${name}.png`) });
};
const mutating = TOOLS.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name);
/** The tool pages a page links to from its content. */
const toolLinks = async () =>
  (
    await page
      .locator('.vp-doc a[href*="/tools/"]')
      .evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname))
  )
    .map((p) => p.replace(/^.*\/tools\/|\.html$/g, ''))
    .filter(Boolean);

describe('docs site in Chromium', { timeout: 90_000 }, () => {
  it('a reader goes from the home page to a persona, a tier and a tool', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Personas and tiers' }).first().click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('Personas and instruction tiers');
    await page.locator('.vp-doc a[href*="/personas/data-scientist/"]').first().click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('Persona: data-scientist');
    await page.locator('.vp-doc a[href$="/personas/data-scientist/full.html"]').first().click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('data-scientist · full tier');
    await shot('persona-tier');
    await page.locator('.vp-doc table a[href$="/tools/fine_tune.html"]').first().click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('fine_tune');
    expect(await page.locator('.vp-doc').textContent()).toContain('previews first');
    // Advanced inputs are marked as such in the inputs table.
    expect(await page.locator('.vp-doc table').nth(1).textContent()).toContain('advanced');
    await shot('tool-page');
  });

  it('search finds a tool page', async () => {
    await page.goto(`${base}/`);
    await page.locator('.VPNavBarSearch button').click();
    const input = page.locator('.VPLocalSearchBox input');
    await input.fill('wait_for_training');
    const hit = page.locator('.VPLocalSearchBox .results a[href*="/tools/wait_for_training"]').first();
    await hit.waitFor();
    await shot('search');
    await hit.click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('wait_for_training');
  });

  it('a readonly page lists no mutating tool, and a data-scientist page does list some', async () => {
    for (const tier of ['full', 'compact', 'minimal']) {
      await page.goto(`${base}/personas/readonly/${tier}.html`);
      const linked = await toolLinks();
      expect(linked.length).toBeGreaterThan(5);
      expect(linked.filter((t) => mutating.includes(t))).toEqual([]);
      const safety = await page.locator('.vp-doc table').nth(1).locator('tbody tr td:nth-child(3)').allTextContents();
      expect(new Set(safety)).toEqual(new Set(['read-only']));
    }
    await page.goto(`${base}/personas/readonly/`);
    expect((await toolLinks()).filter((t) => mutating.includes(t))).toEqual([]);
    await page.goto(`${base}/personas/data-scientist/full.html`);
    expect((await toolLinks()).filter((t) => mutating.includes(t)).length).toBeGreaterThan(0);
  });

  it('has landmarks and enough contrast (axe)', async () => {
    for (const path of ['/', '/personas/readonly/full.html', '/tools/delete_training_job.html']) {
      await page.goto(`${base}${path}`);
      const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'best-practice']).analyze();
      const found = result.violations.map(
        (v) =>
          `${path}: ${v.id} (${v.nodes.length}): ${v.nodes
            .slice(0, 3)
            .map((n) => n.target.join(' '))
            .join('; ')}`,
      );
      expect(found).toEqual([]);
      expect(result.passes.map((p) => p.id)).toEqual(
        expect.arrayContaining(['color-contrast', 'landmark-one-main', 'region']),
      );
    }
  });

  it('serves llms.txt and llms-full.txt with every tool', async () => {
    const index = await (await fetch(`${base}/llms.txt`)).text();
    const full = await (await fetch(`${base}/llms-full.txt`)).text();
    for (const t of TOOLS) {
      expect(index).toContain(`(/tools/${t.name}.md)`);
      expect(full).toContain(t.description);
    }
    const md = await fetch(`${base}/tools/fine_tune.md`);
    expect(md.status).toBe(200);
    expect(await md.text()).toMatch(/^# fine_tune/);
  });
});

describe('docs pages say what the server sends', () => {
  const fenced = (md: string, lang: string) =>
    [...md.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``, 'g'))].map((m) => m[1]);
  for (const persona of ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin']) {
    it(`${persona}: instructions and tools/list of every tier and mode`, () => {
      const listed = selectListed({ persona, clients: ['trainer'], policy: {} });
      for (const tier of ['full', 'compact', 'minimal'] as const) {
        const md = readFileSync(join(ROOT, 'generated', 'site', 'personas', persona, `${tier}.md`), 'utf8');
        expect(fenced(md, 'text')[0]).toBe(
          instructionsFor(
            listed.map((t) => t.name),
            'full',
            tier,
          ).replace(/\n+$/, ''),
        );
        const lists = fenced(md, 'json').map((j) => JSON.parse(j));
        expect(lists[0]).toEqual(JSON.parse(toolsListJson(listed, 'full')));
        expect(lists[1]).toEqual(JSON.parse(toolsListJson(listed, 'progressive')));
        expect(lists[2]).toEqual(JSON.parse(toolsListJson(listed, 'semantic')));
      }
    });
  }

  it("a tool description edited in its spec changes that tool's page and the pages listing it, so gen:check fails until npm run gen", async () => {
    const specs = loadSpecs(join(ROOT, 'specs'));
    const tool = specs.tools.find((t) => t.name === 'get_training_events')!;
    tool.description = 'Events of one TrainJob, described in other words for this test.';
    const files = await generate(specs, {
      handlerExists: (t) => existsSync(join(ROOT, 'runtime', 'handlers', `${t}.ts`)),
    });
    const changed = [...files]
      .filter(([p, text]) => p.startsWith('generated/site/') && text !== readFileSync(join(ROOT, p), 'utf8'))
      .map(([p]) => p);
    expect(changed).toEqual(
      expect.arrayContaining([
        'generated/site/tools/get_training_events.md',
        'generated/site/tools/index.md',
        'generated/site/personas/readonly/full.md',
      ]),
    );
    expect(files.get('generated/site/tools/get_training_events.md')).toContain(tool.description);
  }, 60_000);
});
