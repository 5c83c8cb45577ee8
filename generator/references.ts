// How texts name tools, and how a text is cut down to what one caller can call. The generator uses
// it to check every reference and marker in the specs; it copies this very file into generated/,
// so the runtime resolves references (hints, next steps, guides, instruction lines) with the same
// rules for every caller (persona, policy, client modules).
//
// A text names a tool by writing its name as a word (`fine_tune`, `fine_tune(...)`). Prose that
// needs tools without naming them (a line about `confirmed=true`, a fallback sentence for callers
// who lack a tool) carries a marker:
//   <!-- needs: a, b|c, @previews -->   kept only when a is callable, b or c is, and some tool of
//                                        the group `previews` is (every term must hold; | is or)
//   <!-- lacks: a, b -->                 kept only when the same condition does not hold
// At the end of a line the marker applies to that line; alone on a line it opens a block that
// `<!-- /needs -->` (or `<!-- /lacks -->`) closes.

/** All of the clauses, each any of its terms: a tool name or `@group`. */
export type Condition = string[][];

export interface ReferenceContext {
  /** Every tool name of the build. */
  allTools: readonly string[];
  /** Named groups of tools, usable in conditions as `@name`. */
  groups: Record<string, readonly string[]>;
}

const WORD = /\b[a-z][a-z0-9_]*\b/g;
const MARKER = /<!--\s*(needs|lacks):\s*([^>]*?)\s*-->/;
const CLOSE = /^\s*<!--\s*\/(needs|lacks)\s*-->\s*$/;

/** The tools a text names, each once, in order of first mention. */
export function toolsIn(text: string, allTools: readonly string[]): string[] {
  const known = new Set(allTools);
  return [...new Set((text.match(WORD) ?? []).filter((w) => known.has(w)))];
}

export function parseCondition(text: string): Condition {
  return text
    .split(',')
    .map((c) =>
      c
        .split('|')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .filter((c) => c.length);
}

/** Terms of a condition that name no tool and no group. */
export function unknownTerms(cond: Condition, ctx: ReferenceContext): string[] {
  return cond.flat().filter((t) => (t.startsWith('@') ? !(t.slice(1) in ctx.groups) : !ctx.allTools.includes(t)));
}

export function holds(cond: Condition, callable: ReadonlySet<string>, ctx: ReferenceContext): boolean {
  const term = (t: string) =>
    t.startsWith('@') ? (ctx.groups[t.slice(1)] ?? []).some((n) => callable.has(n)) : callable.has(t);
  return cond.every((clause) => clause.some(term));
}

/** A marker's kind and condition, when the text is or ends with one. */
export function markerOf(line: string): { kind: 'needs' | 'lacks'; cond: Condition; rest: string } | undefined {
  const m = MARKER.exec(line);
  if (!m) return undefined;
  return {
    kind: m[1] as 'needs' | 'lacks',
    cond: parseCondition(m[2]),
    rest: (line.slice(0, m.index) + line.slice(m.index + m[0].length)).trimEnd(),
  };
}

const markerHolds = (kind: 'needs' | 'lacks', cond: Condition, callable: ReadonlySet<string>, ctx: ReferenceContext) =>
  holds(cond, callable, ctx) === (kind === 'needs');

/** One line as this caller reads it (its marker stripped), or undefined when it names a tool the
 * caller cannot call or its marker's condition fails. */
export function lineFor(line: string, callable: ReadonlySet<string>, ctx: ReferenceContext): string | undefined {
  const m = markerOf(line);
  if (m && !markerHolds(m.kind, m.cond, callable, ctx)) return undefined;
  const text = m ? m.rest : line;
  return toolsIn(text, ctx.allTools).every((t) => callable.has(t)) ? text : undefined;
}

/** Splits a hint into clauses at "; ", ", or ", " or " and ". ". */
const CLAUSES = /;\s+|,\s+or\s+|\s+or\s+|\.\s+/;

/**
 * A hint or next step cut down to the callable tools: clauses naming any other tool are left out.
 * An `offer` (a hint that says what to call) with no callable tool left was only the lead-in to
 * the dropped ones and goes too; a `statement` keeps what is left. Undefined when nothing is left.
 */
export function tailorText(
  text: string,
  callable: ReadonlySet<string>,
  allTools: readonly string[],
  kind: 'offer' | 'statement' = 'offer',
): string | undefined {
  if (toolsIn(text, allTools).every((n) => callable.has(n))) return text;
  const clauses = text
    .split(CLAUSES)
    .map((c) => c.trim())
    .filter(Boolean);
  const kept = clauses.filter((c) => toolsIn(c, allTools).every((n) => callable.has(n)));
  if (!kept.length) return undefined;
  if (kind === 'offer' && !kept.some((c) => toolsIn(c, allTools).length)) return undefined;
  const out = kept.join('; ');
  return /^[A-Z]/.test(text) ? out[0].toUpperCase() + out.slice(1) : out;
}

/** One unit of a guide: a heading, a table row, a list item with its continuation lines, a
 * paragraph, a fenced code block or a blank line. */
export interface GuideBlock {
  kind: 'heading' | 'row' | 'item' | 'para' | 'code' | 'blank';
  text: string;
  /** The tools the text names; all must be callable. */
  tools: string[];
  /** The enclosing or trailing markers; all must hold. */
  when: Array<{ kind: 'needs' | 'lacks'; cond: Condition }>;
  /** Headings: the level. */
  level?: number;
  /** Rows and items: which table or list (consecutive rows or items share one). */
  group?: number;
  /** Table rows: 0 the header, 1 the separator, then the body. */
  row?: number;
  /** Items: numbered. */
  ordered?: boolean;
  /** A paragraph ending in ':' right before a list or table: that group. */
  introduces?: number;
}

/** A guide split into blocks, with the problems of its markers (unknown names, unbalanced). */
export function parseGuide(
  md: string,
  ctx: ReferenceContext,
): { blocks: GuideBlock[]; problems: Array<{ line: number; message: string }> } {
  const lines = md.replace(/\n+$/, '').split('\n');
  const blocks: GuideBlock[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  let open: { kind: 'needs' | 'lacks'; cond: Condition; line: number } | undefined;
  let group = 0;
  /** False right after a marker line: what follows starts a new block. */
  let contiguous = false;
  const check = (cond: Condition, line: number) => {
    for (const t of unknownTerms(cond, ctx))
      problems.push({ line, message: `marker names "${t}", which is no tool${t.startsWith('@') ? ' group' : ''}` });
    if (!cond.length) problems.push({ line, message: 'marker has no condition' });
  };
  const push = (b: Omit<GuideBlock, 'tools' | 'when'>, lineNo: number) => {
    const m = markerOf(b.text);
    if (m) check(m.cond, lineNo);
    const text = m ? m.rest : b.text;
    blocks.push({
      ...b,
      text,
      tools: toolsIn(text, ctx.allTools),
      when: [...(open ? [{ kind: open.kind, cond: open.cond }] : []), ...(m ? [{ kind: m.kind, cond: m.cond }] : [])],
    });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (CLOSE.test(line)) {
      if (!open) problems.push({ line: i + 1, message: 'closing marker without an opening one' });
      else if (!line.includes(open.kind))
        problems.push({ line: i + 1, message: `closes a ${open.kind} marker with the other kind` });
      open = undefined;
      contiguous = false;
      continue;
    }
    const alone = /^\s*<!--\s*(needs|lacks):[^>]*-->\s*$/.test(line) ? markerOf(line) : undefined;
    if (alone) {
      check(alone.cond, i + 1);
      if (open) problems.push({ line: i + 1, message: `opens a marker inside the one opened on line ${open.line}` });
      open = { kind: alone.kind, cond: alone.cond, line: i + 1 };
      contiguous = false;
      continue;
    }
    const prev = contiguous ? blocks[blocks.length - 1] : undefined;
    contiguous = true;
    if (/^```/.test(line)) {
      let j = i + 1;
      while (j < lines.length && !/^```/.test(lines[j])) j++;
      push({ kind: 'code', text: lines.slice(i, j + 1).join('\n') }, i + 1);
      i = j;
    } else if (!line.trim()) push({ kind: 'blank', text: '' }, i + 1);
    else if (/^#{1,6}\s/.test(line)) push({ kind: 'heading', text: line, level: line.match(/^#+/)![0].length }, i + 1);
    else if (/^\s*\|/.test(line)) {
      const same = prev?.kind === 'row';
      if (!same) group++;
      push({ kind: 'row', text: line, group, row: same ? prev.row! + 1 : 0 }, i + 1);
    } else if (/^(\s*)([-*+]|\d+\.)\s/.test(line) && !/^\s{2,}/.test(line)) {
      if (prev?.kind !== 'item') group++;
      push({ kind: 'item', text: line, group, ordered: /^\s*\d+\./.test(line) }, i + 1);
    } else if (prev && (prev.kind === 'item' || prev.kind === 'para')) {
      // A continuation line belongs to the item or paragraph above it.
      const m = markerOf(line);
      if (m) {
        check(m.cond, i + 1);
        prev.when.push({ kind: m.kind, cond: m.cond });
      }
      prev.text += `\n${m ? m.rest : line}`;
      prev.tools = toolsIn(prev.text, ctx.allTools);
    } else push({ kind: 'para', text: line }, i + 1);
  }
  if (open) problems.push({ line: open.line, message: 'marker is never closed' });
  // A paragraph ending in ':' introduces the list or table after it.
  blocks.forEach((b, i) => {
    const next = blocks[i + 1];
    if (b.kind === 'para' && /:\s*$/.test(b.text) && next && (next.kind === 'item' || next.kind === 'row'))
      b.introduces = next.group;
  });
  return { blocks, problems };
}

/** A guide as this caller reads it: blocks that name an uncallable tool or whose markers fail are
 * left out, and so are tables and lists left empty, their lead-in and headings with nothing under them. */
export function assembleGuide(
  blocks: readonly GuideBlock[],
  callable: ReadonlySet<string>,
  ctx: ReferenceContext,
): string {
  const keep = (b: GuideBlock) =>
    b.tools.every((t) => callable.has(t)) && b.when.every((w) => markerHolds(w.kind, w.cond, callable, ctx));
  let kept = blocks.filter(keep);
  const body = new Set(kept.filter((b) => b.kind === 'item' || (b.kind === 'row' && b.row! > 1)).map((b) => b.group));
  kept = kept.filter(
    (b) => (b.kind !== 'row' || body.has(b.group)) && (b.introduces === undefined || body.has(b.introduces)),
  );
  // Headings with nothing under them (up to the next heading of the same or a higher level) go.
  for (let changed = true; changed; ) {
    changed = false;
    kept = kept.filter((b, i) => {
      if (b.kind !== 'heading') return true;
      for (let j = i + 1; j < kept.length; j++) {
        const n = kept[j];
        if (n.kind === 'heading') {
          if (n.level! <= b.level!) break;
          return true;
        }
        if (n.kind !== 'blank') return true;
      }
      changed = true;
      return false;
    });
  }
  const counters = new Map<number, number>();
  const out: string[] = [];
  for (const b of kept) {
    if (b.kind === 'blank' && (!out.length || out[out.length - 1] === '')) continue;
    if (b.kind === 'item' && b.ordered) {
      const n = (counters.get(b.group!) ?? 0) + 1;
      counters.set(b.group!, n);
      out.push(b.text.replace(/^(\s*)\d+\./, `$1${n}.`));
    } else out.push(b.text);
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}
