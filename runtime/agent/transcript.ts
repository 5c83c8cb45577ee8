// /save: the conversation as Markdown (secrets masked as they were shown).
import type { TranscriptEntry } from './engine.ts';

export function transcriptMarkdown(entries: TranscriptEntry[], header: string[]): string {
  const out = ['# kubeflow-mcp agent transcript', '', ...header.map((h) => `- ${h}`), ''];
  for (const e of entries) {
    switch (e.kind) {
      case 'user':
        out.push('## You', '', e.text, '');
        break;
      case 'assistant':
        out.push('## Assistant', '', e.text.trim(), '');
        break;
      case 'thinking':
        out.push('<details><summary>thinking</summary>', '', e.text.trim(), '', '</details>', '');
        break;
      case 'call':
        out.push(`**Tool call** \`${e.text}\``, '');
        break;
      case 'result':
        out.push(...e.text.split('\n').map((l) => `> ${l}`), '');
        break;
      case 'preview':
        out.push(`**Preview**: ${e.text}`, '', '```json', JSON.stringify(e.data ?? {}, null, 2), '```', '');
        break;
      case 'decision':
        out.push(`**The person answered**: ${e.text}`, '');
        break;
      case 'notice':
        out.push(`_${e.text}_`, '');
        break;
    }
  }
  return out.join('\n');
}
