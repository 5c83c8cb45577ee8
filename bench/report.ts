// The benchmark's report: Markdown tables printed as they are made, the same tables and every
// figure as JSON under bench/results/, and (with --readme) the README's Numbers block replaced.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './servers.ts';

export const ms = (x: number) => (x >= 100 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`);
export const mb = (x: number) => `${x.toFixed(0)} MB`;
export const int = (x: number) => x.toLocaleString('en-US');
export const met = (ok: boolean) => (ok ? 'met' : '**not met**');

export class Report {
  private md: string[] = [];
  readonly figures: Record<string, unknown> = {};
  readonly started = new Date();

  heading(text: string) {
    this.say(`\n### ${text}\n`);
  }
  note(text: string) {
    this.say(`${text}\n`);
  }
  table(head: string[], rows: Array<Array<string | number>>) {
    const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
    this.say([line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n');
  }
  record(key: string, value: unknown) {
    this.figures[key] = value;
  }

  private say(text: string) {
    this.md.push(text);
    console.log(text);
  }

  machine() {
    const c = cpus();
    return `${c.length} × ${c[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  }

  /** Writes bench/results/latest.{md,json}; with `readme`, the README block between the markers too. */
  write(readme: boolean) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const header = `Measured by \`npm run bench\` on ${this.started.toISOString().slice(0, 10)}, ${this.machine()}.\n`;
    const body = header + this.md.join('\n');
    writeFileSync(join(dir, 'latest.md'), body);
    writeFileSync(
      join(dir, 'latest.json'),
      JSON.stringify({ date: this.started.toISOString(), machine: this.machine(), figures: this.figures }, null, 2) +
        '\n',
    );
    if (!readme) return;
    const path = join(ROOT, 'README.md');
    const text = readFileSync(path, 'utf8');
    const start = '<!-- bench:start -->',
      end = '<!-- bench:end -->';
    const a = text.indexOf(start),
      b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error('README.md has no bench block to replace');
    writeFileSync(path, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
  }
}
