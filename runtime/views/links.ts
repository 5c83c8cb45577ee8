// Which clients see the views, and tools/list with each linked tool naming its view. Only a client
// that declares the MCP Apps extension (io.modelcontextprotocol/ui, with the HTML profile) gets
// `_meta.ui.resourceUri` on the linked tools; every other client gets tools/list byte for byte as
// before. Imports nothing but generated/views.ts, so the start-up path can use it.
import { VIEW_OF_TOOL } from '../../generated/views.ts';

/** The extension's identifier and the resource type of its views (as @modelcontextprotocol/ext-apps names them; a test keeps them equal). */
export const UI_EXTENSION = 'io.modelcontextprotocol/ui';
export const VIEW_MIME = 'text/html;profile=mcp-app';

/** Whether these client capabilities declare the extension with the HTML views this server sends. */
export function wantsViews(capabilities: unknown): boolean {
  const ext = (capabilities as { extensions?: Record<string, unknown> } | undefined)?.extensions?.[UI_EXTENSION];
  if (!ext || typeof ext !== 'object') return false;
  const types = (ext as { mimeTypes?: unknown }).mimeTypes;
  return !Array.isArray(types) || types.includes(VIEW_MIME);
}

/** Tool entries (as tools/list sends them) with the linked ones naming their view. */
export function linkTools<T extends { name: string; _meta?: Record<string, unknown> }>(tools: T[]): T[] {
  return tools.map((t) => {
    const uri = VIEW_OF_TOOL[t.name];
    return uri ? { ...t, _meta: { ...(t._meta ?? {}), ui: { resourceUri: uri } } } : t;
  });
}

/** tools/list's JSON text for this client: unchanged unless it wants views. */
export function toolsListFor(json: string, capabilities: unknown): string {
  if (!wantsViews(capabilities)) return json;
  const list = JSON.parse(json);
  return JSON.stringify({ ...list, tools: linkTools(list.tools) });
}
