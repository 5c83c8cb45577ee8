// Runs once before the suite: tests that start the server as a process use dist/, so it is
// rebuilt from the current source first (never a stale bundle).
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { buildBundle } from '../../scripts/build.mjs';

export default async function setup() {
  await buildBundle(join(import.meta.dirname, '..', '..'));
}
