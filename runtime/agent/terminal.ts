// The chat's output on a terminal (or any stream): streamed thinking and text, tool calls, short
// results, previews and a progress bar redrawn in place on a TTY (one line per new message
// elsewhere, so a transcript piped to a file stays readable).
import type { AgentUI } from './engine.ts';
import type { Progress } from './mcp.ts';
import { paint, progressBar, renderPreview, type Paint } from './render.ts';

export type Asker = (question: string, signal: AbortSignal) => Promise<string>;

export class TerminalUI implements AgentUI {
  readonly p: Paint;
  private streaming: 'none' | 'thinking' | 'text' = 'none';
  private barShown = false;
  private lastBarMessage: string | undefined;

  constructor(
    private out: NodeJS.WritableStream & { columns?: number },
    private tty: boolean,
    color: boolean,
    private showThinking: () => boolean,
    private asker: Asker,
  ) {
    this.p = paint(color);
  }

  write(s: string): void {
    this.out.write(s);
  }
  line(s = ''): void {
    this.closeStream();
    this.out.write(`${s}\n`);
  }

  private closeStream(): void {
    if (this.streaming !== 'none') this.out.write('\n');
    this.streaming = 'none';
  }

  thinking(delta: string): void {
    if (!this.showThinking()) return;
    if (this.streaming !== 'thinking') {
      this.closeStream();
      this.write(this.p.dim('thinking: '));
      this.streaming = 'thinking';
    }
    this.write(this.p.dim(delta));
  }

  text(delta: string): void {
    if (this.streaming !== 'text') {
      this.closeStream();
      delta = delta.replace(/^\s+/, '');
      if (!delta) return;
      this.write(this.p.bold('assistant: '));
      this.streaming = 'text';
    }
    this.write(delta);
  }

  endMessage(): void {
    this.closeStream();
  }

  toolCall(line: string, note?: string): void {
    this.line(`${this.p.magenta('->')} ${line}`);
    if (note) this.line(this.p.dim(`   (${note})`));
  }

  toolResult(ok: boolean, lines: string[]): void {
    const [first, ...rest] = lines;
    this.line(`   ${ok ? this.p.green('ok') : this.p.red('failed')} ${first ?? ''}`);
    for (const l of rest) this.line(`      ${l}`);
  }

  preview(envelope: any): void {
    this.line(`   ${this.p.yellow('PREVIEW')} (nothing has been created or changed yet)`);
    for (const l of renderPreview(envelope, this.p)) this.line(`   | ${l}`);
  }

  async confirm(question: string, signal: AbortSignal): Promise<boolean> {
    this.closeStream();
    const answer = await this.asker(`   ${this.p.bold(question)}`, signal);
    return /^\s*y(es)?\s*$/i.test(answer);
  }

  progress(p: Progress): void {
    const width = Math.max(40, (this.out.columns ?? 100) - 4);
    const bar = progressBar(p, width);
    if (this.tty) {
      this.write(`\r\x1b[2K   ${bar}`);
      this.barShown = true;
    } else if (p.message !== this.lastBarMessage) {
      this.line(`   ${bar}`);
      this.lastBarMessage = p.message;
    }
  }

  progressDone(): void {
    if (this.barShown) this.write('\n');
    this.barShown = false;
    this.lastBarMessage = undefined;
  }

  notice(line: string): void {
    this.line(this.p.dim(`(${line})`));
  }
  error(line: string): void {
    this.line(`${this.p.red('error:')} ${line}`);
  }
}
