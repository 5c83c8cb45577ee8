import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import LongestFirst from './test/setup/sequencer.ts';

// Two tiers. `unit` runs in this process tree only (pipeline, executor, generator, ranker, the
// sandbox's API server and controllers in-process); `process` starts the server, kubectl, Helm,
// Chromium or other programs. `npm test` runs both; `npm run test:unit` the first alone.
//
// Most process-tier time is spent waiting on a child process or a simulated clock, not on the CPU,
// so more files run at once than there are cores (vitest's default, cores - 1, is one file at a
// time on a 2-core machine).
const maxWorkers = Math.max(4, availableParallelism());

export default defineConfig({
  test: {
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers,
    sequence: { sequencer: LongestFirst },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: { name: 'process', include: ['test/**/*.test.ts'], exclude: ['test/**/*.unit.test.ts'] },
      },
    ],
  },
});
