// Builds the server instructions for one set of callable tools and one tier. The generator uses
// it for the docs and copies this very file into generated/, so the runtime assembles the text for
// any persona (built-in or from the policy file) with the same rules.

export interface InstructionSource {
  header: string;
  sections: Array<{ tools: string[]; lines: string[] }>;
  /** `tools`: listed only when one of these is callable (a module's guide). */
  resources: Array<{ uri: string; description: string; tools?: string[] }>;
  /** Every tool name, to find the ones a line mentions. */
  allTools: string[];
}

export type Tier = 'full' | 'compact' | 'minimal';

/** A line is kept only when every tool it names is callable, so no persona hears of a tool it lacks. */
export function assembleInstructions(src: InstructionSource, visible: ReadonlySet<string>, tier: Tier): string {
  const mentions = (line: string) => src.allTools.filter((t) => new RegExp(`\\b${t}\\b`).test(line));
  const usable = (line: string) => mentions(line).every((t) => visible.has(t));
  const parts = [src.header.trim().split('\n').filter(usable).join('\n')];
  for (const s of src.sections) {
    const tools = s.tools.filter((n) => visible.has(n));
    if (!tools.length) continue;
    if (tier === 'minimal') { parts.push(`${s.lines[0]}: ${tools.join(', ')}`); continue; }
    const [title, ...body] = s.lines;
    const kept = body.filter(usable).filter((l) => tier === 'full' || !l.includes('trainer://'));
    if (kept.length) parts.push([title, ...kept].join('\n'));
  }
  const resources = src.resources.filter((r) => !r.tools || r.tools.some((t) => visible.has(t)));
  if (tier === 'full' && resources.length) {
    parts.push(['RESOURCES (read when needed):', ...resources.map((r) => `- ${r.uri}: ${r.description}`)].join('\n'));
  }
  return parts.join('\n\n') + '\n';
}
