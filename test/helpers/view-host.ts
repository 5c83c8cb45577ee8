// A small MCP Apps host for tests: a real MCP client (stdio, the 1.x SDK like helpers/mcp.ts) that
// declares the io.modelcontextprotocol/ui extension, and headless Chromium (Debian's chromium via
// playwright-core) running view-host-page.ts. openView calls a tool, finds the view its tools/list
// entry links to, reads that ui:// resource and mounts it with the call's arguments and result;
// every tool call the view makes goes through the same client and is recorded.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { BIN, ROOT } from './mcp.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');
export const UI_CAPABILITY = {
  extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } },
};

export interface UiClient {
  client: Client;
  close: () => Promise<void>;
  stderr: () => string;
}

/** `kubeflow-mcp serve` with a client that declares the MCP Apps extension (or not, with ui=false). */
export async function connectUi(args: string[], env: Record<string, string> = {}, ui = true): Promise<UiClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'serve', '--no-banner', '--log-format', 'json', ...args],
    env: { ...(process.env as Record<string, string>), HOME: '/nonexistent-home', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d) => {
    err += d.toString();
  });
  const client = new Client(
    { name: 'kubeflow-mcp-view-host', version: '1.0.0' },
    { capabilities: ui ? (UI_CAPABILITY as any) : {} },
  );
  await client.connect(transport);
  return { client, close: () => client.close(), stderr: () => err };
}

export interface Host {
  browser: Browser;
  close: () => Promise<void>;
  open: (c: Client, o: OpenOptions) => Promise<Mounted>;
}
export interface OpenOptions {
  tool: string;
  args: Record<string, unknown>;
  width?: number;
  theme?: 'light' | 'dark';
  variables?: Record<string, string>;
}
export interface Mounted {
  page: Page;
  view: Frame;
  result: any;
  uri: string;
  calls: Array<{ name: string; arguments: any; result: any }>;
  shot: (name: string) => Promise<string>;
}

let pageScript: Promise<string> | undefined;
const hostScript = () =>
  (pageScript ??= build({
    entryPoints: [join(ROOT, 'test/helpers/view-host-page.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0].text));

export async function startHost(): Promise<Host> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const script = await hostScript();
  const open = async (c: Client, o: OpenOptions): Promise<Mounted> => {
    const listed = (await c.listTools()).tools.find((t) => t.name === o.tool);
    const uri = (listed?._meta as any)?.ui?.resourceUri as string | undefined;
    if (!uri) throw new Error(`${o.tool} names no view in tools/list`);
    const html = (await c.readResource({ uri })).contents[0] as { text: string; mimeType: string };
    const result = await c.callTool({ name: o.tool, arguments: o.args });
    const context = await browser.newContext({
      viewport: { width: o.width ?? 760, height: 900 },
      colorScheme: o.theme ?? 'light',
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // The view may reach the network only through the host: any request the page makes fails the test.
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('data:') && r.url() !== 'about:srcdoc') requests.push(r.url());
    });
    const calls: Mounted['calls'] = [];
    await page.exposeFunction('hostCallTool', async (params: { name: string; arguments?: any }) => {
      const r = await c.callTool({ name: params.name, arguments: params.arguments ?? {} });
      calls.push({ name: params.name, arguments: params.arguments, result: r });
      return r;
    });
    await page.setContent(
      `<!doctype html><html><body style="margin:0"><div id="host"></div><script type="module">${script.replace(/<\/script/gi, '<\\/script')}</script></body></html>`,
    );
    await page.waitForFunction(() => typeof window.mountView === 'function');
    await page.evaluate((a) => window.mountView(a as any), {
      html: html.text,
      tool: o.tool,
      args: o.args,
      result: result as any,
      context: { theme: o.theme ?? 'light', ...(o.variables ? { styles: { variables: o.variables } } : {}) },
    });
    const view = page.frames().find((f) => f !== page.mainFrame())!;
    // The host sizes the iframe from the view's size notifications, so a screenshot waits until the
    // frame has been given a height (else it can catch the frame before its first resize, blank).
    const shot = async (name: string) => {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.waitForFunction(() => (document.querySelector('iframe')?.getBoundingClientRect().height ?? 0) > 40);
      // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point (textContent counts the page's own script)
      await view.waitForFunction(() => document.body.innerText.trim().length > 0);
      await page.screenshot({ path, fullPage: true });
      return path;
    };
    if (requests.length) throw new Error(`the view made network requests: ${requests.join(', ')}`);
    return { page, view, result, uri, calls, shot };
  };
  return { browser, open, close: () => browser.close() };
}
