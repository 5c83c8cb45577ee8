// What the built bundle holds: structural guards for start-up and per-call cost, not timings.
// The start-up file carries only the start-up path; the Kubernetes client ships without client-node's
// typed API clients and models (lists are read as plain JSON, never decoded into classes).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/mcp.ts';

const DIST = join(ROOT, 'dist');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

describe('the bundle', () => {
  it('keeps the start-up file to the start-up path: no dependency, no SDK, no validators, no tool steps', () => {
    const inputs: string[] = JSON.parse(readFileSync(join(DIST, 'cli.inputs.json'), 'utf8'));
    expect(inputs).toContain('generated/session.ts');
    expect(inputs).toContain('runtime/stdio.ts');
    expect(
      inputs.filter(
        (i) =>
          i.includes('node_modules') ||
          /generated\/(index|tools|validators)|runtime\/(server|pipeline|executor|logger|k8s|cel|handlers|trainer)|^sandbox\//.test(
            i,
          ),
      ),
    ).toEqual([]);
    // runtime/sandbox-loader.ts may be in it: a dynamic import of the sandbox, which stays lazy.
    // Everything else is imported from the lazy build.
    const cli = readFileSync(join(DIST, 'cli.mjs'), 'utf8');
    expect([...cli.matchAll(/import\("\.\/lazy\/([^"]+)"\)/g)].map((m) => m[1]).sort()).toEqual(
      expect.arrayContaining(['commands.mjs', 'k8s/client.mjs', 'logger.mjs', 'server.mjs']),
    );
  });

  it('ships the Kubernetes client without typed API clients or models', () => {
    const all = files(DIST).filter((f) => f.endsWith('.mjs'));
    const typed = all.filter((f) =>
      /ObjectSerializer|V1PodSpec|CoreV1Api|CustomObjectsApi/.test(readFileSync(f, 'utf8')),
    );
    expect(typed).toEqual([]);
  });

  it('has a client that speaks REST itself instead of through typed APIs', () => {
    const client = readFileSync(join(ROOT, 'runtime', 'k8s', 'client.ts'), 'utf8');
    expect(client).not.toMatch(/makeApiClient|CoreV1Api|CustomObjectsApi/);
    expect(statSync(join(DIST, 'cli.mjs')).size).toBeLessThan(150_000);
  });
});
