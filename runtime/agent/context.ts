// The context budget: what is sent to the model each round must fit in a number of tokens (an
// estimate, four characters a token). Old tool results go first (each becomes a one-line stub the
// model can act on: call the tool again), then the oldest exchanges; the system prompt and the
// exchange in progress always stay. The full history is kept for /save.
import type { ChatMessage, ToolDef } from './backends.ts';

export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

export function messageTokens(m: ChatMessage): number {
  return (
    4 +
    estimateTokens(m.content) +
    (m.toolCalls ? estimateTokens(JSON.stringify(m.toolCalls.map((c) => [c.name, c.arguments]))) : 0)
  );
}

export const toolsTokens = (tools: ToolDef[]) => estimateTokens(JSON.stringify(tools));

const stub = (m: ChatMessage) =>
  `[${m.toolName ?? 'tool'} result of ${m.content.length} characters left out to save context; call the tool again if it is still needed. It began: ${m.content.slice(0, 120).replace(/\s+/g, ' ')}...]`;

/** Caps one tool result so that a single answer (a long log) cannot take the whole budget. */
export function capToolResult(text: string, budgetTokens: number): string {
  const max = Math.max(2000, Math.floor(budgetTokens * 4 * 0.4));
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.3),
    tail = max - head;
  return `${text.slice(0, head)}\n[... ${text.length - max} characters cut to fit the context ...]\n${text.slice(-tail)}`;
}

export interface Fitted {
  messages: ChatMessage[];
  trimmedResults: number;
  droppedMessages: number;
  tokens: number;
}

/** `messages` (system first) cut to `budget` tokens, `reserve` of them held back for tools and the answer. */
export function fitBudget(messages: ChatMessage[], budget: number, reserve = 0): Fitted {
  const out = messages.map((m) => ({ ...m }));
  const limit = Math.max(256, budget - reserve);
  let total = out.reduce((n, m) => n + messageTokens(m), 0);
  const lastUser = out.map((m) => m.role).lastIndexOf('user');
  let trimmedResults = 0,
    droppedMessages = 0;
  // 1. Old tool results (before the exchange in progress), oldest first.
  for (let i = 0; i < out.length && total > limit; i++) {
    const m = out[i];
    if (
      m.role !== 'tool' ||
      i > lastUser ||
      (m.content.startsWith('[') && m.content.includes('left out to save context'))
    )
      continue;
    const before = messageTokens(m);
    m.content = stub(m);
    total -= before - messageTokens(m);
    trimmedResults++;
  }
  // 2. Whole old exchanges (a user message up to the next one), oldest first.
  let firstKept = out[0]?.role === 'system' ? 1 : 0;
  const startOfLast = lastUser >= 0 ? lastUser : out.length;
  while (total > limit && firstKept < startOfLast) {
    let end = firstKept + 1;
    while (end < startOfLast && out[end].role !== 'user') end++;
    for (let i = firstKept; i < end; i++) total -= messageTokens(out[i]);
    droppedMessages += end - firstKept;
    firstKept = end;
  }
  // 3. Tool results of the exchange in progress, oldest first, when still over.
  for (let i = startOfLast; i < out.length && total > limit; i++) {
    const m = out[i];
    if (m.role !== 'tool' || i === out.length - 1 || m.content.includes('left out to save context')) continue;
    const before = messageTokens(m);
    m.content = stub(m);
    total -= before - messageTokens(m);
    trimmedResults++;
  }
  const kept = [...(out[0]?.role === 'system' ? [out[0]] : []), ...out.slice(firstKept)];
  return { messages: kept, trimmedResults, droppedMessages, tokens: total };
}
