// Spec files with their source positions, so every problem can be reported as
// `specs/<file>:<line>:<col>: <yaml path>: <message>` with a suggestion for near-miss names.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';

export type Path = Array<string | number>;

export class SpecError extends Error {}

export class SourceFile {
  readonly doc: Document;
  readonly value: any;
  private lines = new LineCounter();

  constructor(
    readonly rel: string,
    text: string,
    problems: Problems,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const { line, col } = this.lines.linePos(e.pos[0]);
      problems.raw(`${rel}:${line}:${col}: YAML syntax error: ${e.message.split('\n')[0]}`);
    }
    this.value = this.doc.errors.length ? undefined : this.doc.toJS();
  }

  static read(abs: string, rel: string, problems: Problems) {
    return new SourceFile(rel, readFileSync(abs, 'utf8'), problems);
  }

  /** Line and column of the deepest node on `path` (the key, for a map entry). */
  position(path: Path): { line: number; col: number } {
    let node: any = this.doc.contents;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p: any) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        offset = (pair.key as any).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        node = node.items[seg];
        offset = node?.range?.[0] ?? offset;
      } else break;
    }
    return this.lines.linePos(offset);
  }
}

export const dotted = (path: Path) => (path.length ? path.join('.') : '(root)');

/** Collects problems; `throwIfAny` raises them together, sorted by file and line. */
export class Problems {
  private list: Array<{ key: string; text: string }> = [];

  raw(text: string) {
    this.list.push({ key: text, text });
  }

  at(file: SourceFile | undefined, path: Path, message: string, suggestion?: string) {
    const where = file
      ? (() => {
          const { line, col } = file.position(path);
          return `${file.rel}:${line}:${col}`;
        })()
      : 'specs';
    const text = `${where}: ${dotted(path)}: ${message}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    this.list.push({
      key: `${where.replace(/:(\d+):(\d+)$/, (_m, l, c) => `:${l.padStart(6, '0')}:${c.padStart(4, '0')}`)}`,
      text,
    });
  }

  get count() {
    return this.list.length;
  }

  throwIfAny() {
    if (!this.list.length) return;
    const texts = [...new Set(this.list.sort((a, b) => a.key.localeCompare(b.key)).map((p) => p.text))];
    throw new SpecError(texts.join('\n'));
  }
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined,
    bestD = Infinity;
  for (const c of new Set(candidates)) {
    if (c === word) continue;
    const d = distance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))) return best;
  // A word that is the tail or head of a longer name ("selector" for "labelSelector").
  const part = [...new Set(candidates)].filter(
    (c) => c !== word && w.length >= 4 && (c.toLowerCase().endsWith(w) || c.toLowerCase().startsWith(w)),
  );
  return part.length ? part.sort().join('" or "') : undefined;
}
