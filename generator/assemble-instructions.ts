// Builds the server instructions for one set of callable tools and one tier. The generator uses
// it for the docs and copies this very file into generated/, so the runtime assembles the text for
// any persona (built-in or from the policy file) with the same rules.
import { lineFor, type ReferenceContext } from './references.ts';

export interface InstructionSource extends ReferenceContext {
  header: string;
  sections: Array<{ tools: string[]; lines: string[] }>;
  /** `tools`: listed only when one of these is callable (a module's guide). */
  resources: Array<{ uri: string; description: string; tools?: string[] }>;
}

export type Tier = 'full' | 'compact' | 'minimal';

/** A line is kept only when every tool it names is callable and its marker (`<!-- needs: ... -->`)
 * holds, so no persona hears of a tool it lacks or of what only those tools do. */
export function assembleInstructions(src: InstructionSource, visible: ReadonlySet<string>, tier: Tier): string {
  const kept = (lines: string[]) => lines.flatMap((l) => lineFor(l, visible, src) ?? []);
  const parts = [kept(src.header.trim().split('\n')).join('\n')];
  for (const s of src.sections) {
    const tools = s.tools.filter((n) => visible.has(n));
    if (!tools.length) continue;
    if (tier === 'minimal') {
      parts.push(`${s.lines[0]}: ${tools.join(', ')}`);
      continue;
    }
    const [title, ...body] = s.lines;
    const lines = kept(body).filter((l) => tier === 'full' || !l.includes('trainer://'));
    if (lines.length) parts.push([title, ...lines].join('\n'));
  }
  const resources = src.resources.filter((r) => !r.tools || r.tools.some((t) => visible.has(t)));
  if (tier === 'full' && resources.length) {
    parts.push(['RESOURCES (read when needed):', ...resources.map((r) => `- ${r.uri}: ${r.description}`)].join('\n'));
  }
  return parts.join('\n\n') + '\n';
}
