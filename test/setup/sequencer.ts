// The order files start in: longest first across both tiers (by the last run's time when vitest
// has it, else by file size) so the slowest file is not the last one started. Vitest's own order
// runs one project's files before the other's, which on two cores left the generator's minute of
// work at the end of the run with the other workers idle.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const key = (f: TestSpecification) => `${f.project.name}:${f.moduleId.slice(this.ctx.config.root.length + 1)}`;
    // Files with no last run (a clean clone, a new file) go first, largest first; then failed ones,
    // then the rest by last duration, as vitest weighs them within a project.
    const weight = (f: TestSpecification) => {
      const last = cache.getFileTestResults(key(f));
      if (!last) return 3e12 + (cache.getFileStats(key(f))?.size ?? 0);
      return (last.failed ? 1e12 : 0) + last.duration;
    };
    return [...files].sort((a, b) => weight(b) - weight(a));
  }
}
