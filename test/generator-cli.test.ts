// gen:check as a contributor runs it, in a copy of the project: passes as committed, fails after a spec edit.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

import { copyProject } from './helpers/project-copy.ts';

const GENERATE_TIMEOUT = 180_000;

describe('gen:check', () => {
  const ROOT = copyProject('kfmcp-gencheck-');
  it(
    'passes on the committed tree and fails after a spec edit',
    () => {
      expect(execFileSync('npx', ['tsx', 'generator/cli.ts', '--check'], { cwd: ROOT, encoding: 'utf8' })).toContain(
        'are current',
      );
      const file = join(ROOT, 'specs/tools/health_check.yaml');
      const before = readFileSync(file, 'utf8');
      try {
        writeFileSync(file, before.replace('Server uptime', 'The server uptime'));
        let err = '';
        try {
          execFileSync('npx', ['tsx', 'generator/cli.ts', '--check'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
        } catch (e: any) {
          err = e.stderr;
        }
        expect(err).toContain('stale: generated/tools/health_check.ts');
      } finally {
        writeFileSync(file, before);
      }
    },
    GENERATE_TIMEOUT,
  );
});
