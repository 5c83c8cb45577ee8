// llms.txt and llms-full.txt for agents, written into the built site at the end of the build:
// llms.txt is an index of every page (title, one line, a link to the page's markdown), and
// llms-full.txt every page's markdown in one file. Each page's markdown is copied beside its HTML,
// so the links of llms.txt resolve.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface Page {
  path: string;
  title: string;
  description: string;
  body: string;
}

/** A page source as plain markdown: no front matter, no comments, includes inlined. */
function readPage(srcDir: string, path: string): Page {
  const file = join(srcDir, path);
  const text = readFileSync(file, 'utf8');
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const field = (k: string) => {
    const m = fm && new RegExp(`^${k}: (.*)$`, 'm').exec(fm[1]);
    if (!m) return '';
    try {
      return String(JSON.parse(m[1]));
    } catch {
      return m[1];
    }
  };
  const body = text
    .slice(fm ? fm[0].length : 0)
    .replace(/<!--@include: (.+?)-->/g, (_m, rel: string) => readFileSync(join(dirname(file), rel.trim()), 'utf8'))
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#123;/g, '{')
    .replace(/&#125;/g, '}')
    .replace(/&amp;/g, '&')
    .trim();
  const h1 = /^# (.+)$/m.exec(body)?.[1];
  return { path, title: field('title') || h1 || path, description: field('description'), body };
}

const SECTIONS: Array<[string, RegExp]> = [
  ['Personas and instruction tiers', /^personas\//],
  ['Tools', /^tools\//],
  ['Guides', /^guides\//],
  ['Reference', /^(prompts|reference\/)/],
];

export function writeLlmsFiles(o: {
  srcDir: string;
  outDir: string;
  pages: string[];
  base: string;
  title: string;
  summary: string;
}) {
  // A folder's index first, then its pages by name.
  const key = (p: string) => p.replace(/(^|\/)index\.md$/, '$1');
  const pages = [...o.pages].sort((a, b) => key(a).localeCompare(key(b))).map((p) => readPage(o.srcDir, p));
  for (const p of pages) {
    mkdirSync(dirname(join(o.outDir, p.path)), { recursive: true });
    writeFileSync(join(o.outDir, p.path), `# ${p.title}\n\n${p.body.replace(/^# .+\n+/, '')}\n`);
  }
  const link = (p: Page) => `- [${p.title}](${o.base}${p.path})${p.description ? `: ${p.description}` : ''}`;
  const index = [
    `# ${o.title}`,
    '',
    `> ${o.summary}`,
    '',
    'Every page is generated from the tool specs. Each link is the page as markdown; llms-full.txt has them all in one file.',
    '',
  ];
  for (const [name, re] of SECTIONS) {
    const inSection = pages.filter((p) => re.test(p.path));
    if (inSection.length) index.push(`## ${name}`, '', ...inSection.map(link), '');
  }
  writeFileSync(join(o.outDir, 'llms.txt'), `${index.join('\n').trimEnd()}\n`);
  writeFileSync(
    join(o.outDir, 'llms-full.txt'),
    `${pages.map((p) => `<page path="${o.base}${p.path}">\n# ${p.title}\n\n${p.body.replace(/^# .+\n+/, '')}\n</page>`).join('\n\n')}\n`,
  );
}
