// The host's theme: its colour scheme, style variables and fonts (the SDK's helpers), and the
// colours the charts take from them.
import {
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from '@modelcontextprotocol/ext-apps/app-with-deps';

export function applyTheme(ctx: McpUiHostContext | undefined) {
  if (!ctx) return;
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles?.css?.fonts) applyHostFonts(ctx.styles.css.fonts);
}

/** Chart colours as the page's CSS resolves them now (host variables, else the defaults in style.css). */
export function colors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    text: v('--kf-text-2') || '#475569',
    grid: v('--kf-border') || '#e2e8f0',
    accent: v('--kf-accent') || '#2563eb',
    warn: v('--kf-warn') || '#d97706',
  };
}
