import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** What a file is guessed to take when no earlier run on this clone measured it (ms). */
const guessMs = (file: string) => (file.endsWith('.int.test.ts') ? 60_000 : 3_000);

/**
 * Starts the slowest files first, so the run does not end on one long file started last. Vitest's own order
 * uses the durations of an earlier run on this clone (node_modules/.vite); a fresh clone has none and falls back
 * to file size, which put the real-program suites (`*.int.test.ts`, the longest by far) anywhere. Files an
 * earlier run measured keep their measured duration; the others are guessed by kind.
 */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const cost = (spec: TestSpecification) => {
      const file = relative(root, spec.moduleId);
      return this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`)?.duration ?? guessMs(file);
    };
    const costs = new Map(files.map((f) => [f, cost(f)]));
    return [...files].sort((a, b) => costs.get(b)! - costs.get(a)!);
  }
}
