// The official MCP conformance suite (@modelcontextprotocol/conformance, which needs Node 22, so
// both come through npx) against `serve --transport http --sandbox`. Scenarios that need the
// suite's own fixtures are listed, with reasons, in conformance/expected-failures.yaml; the suite
// fails on any other failure and on a listed scenario that passes.
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveHttp } from './helpers/serve-http.ts';

const SUITE = '@modelcontextprotocol/conformance@0.1.16';

/** Whether the npm registry answers (the suite and Node 22 come from it); the reason when not. */
function registry(): Promise<string | undefined> {
  return new Promise((resolve) => execFile('npm', ['view', SUITE, 'version'], { timeout: 30_000 }, (e) => resolve(e ? `the npm registry is unreachable (${e.message.split('\n')[0]})` : undefined)));
}

describe('MCP conformance', () => {
  it('passes the official suite over streamable HTTP, but for the scenarios that need its fixtures', async (ctx) => {
    const offline = await registry();
    if (offline) { console.warn(`conformance suite skipped: ${offline}`); ctx.skip(); }
    const { url } = await serveHttp(['--sandbox', '--persona', 'platform-admin']);
    const out = mkdtempSync(join(tmpdir(), 'kfmcp-conformance-'));
    const run = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn('npx', ['-y', '-p', 'node@22', '-p', SUITE, 'conformance', 'server', '--url', url, '--expected-failures', join(import.meta.dirname, 'conformance', 'expected-failures.yaml'), '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d) => { text += d; });
      p.stderr.on('data', (d) => { text += d; });
      p.on('close', (code) => resolve({ code, text }));
    });
    const summary = run.text.slice(run.text.indexOf('=== SUMMARY ==='));
    expect(summary, run.text.slice(-3000)).toMatch(/Total: \d+ passed, \d+ failed/);
    // Every scenario that needs no fixture passes, including DNS-rebinding protection and initialize.
    for (const s of ['server-initialize', 'ping', 'tools-list', 'tools-call-error', 'logging-set-level', 'completion-complete', 'resources-list', 'prompts-list', 'dns-rebinding-protection']) expect(summary).toMatch(new RegExp(`✓ ${s}:`));
    expect(run.code, summary).toBe(0);
  }, 600_000);
});
