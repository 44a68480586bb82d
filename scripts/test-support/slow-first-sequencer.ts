import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Seconds each file took in a full run on the 2-core machine (write-file-durations.mjs writes it). */
const committed = JSON.parse(readFileSync(join(import.meta.dirname, 'file-durations.json'), 'utf8')) as Record<
  string,
  number
>;

/** What a file is guessed to take when no run measured it (ms): a new file. */
const guessMs = (file: string) =>
  committed[file] !== undefined ? committed[file] * 1000 : file.endsWith('.int.test.ts') ? 60_000 : 3_000;

/**
 * Starts the slowest files first, so the run does not end on one long file started last. Vitest's own order
 * uses the durations of an earlier run on this clone (node_modules/.vite); a fresh clone has none and falls back
 * to file size, which put the real-program suites (`*.int.test.ts`, the longest by far) anywhere. Files an
 * earlier run measured keep their measured duration; on a fresh clone (CI) the committed durations of a full
 * run (file-durations.json) order them, and only a file new since is guessed by kind: guessing every real-program
 * file alike started the longest ones (the packed packages, claude-code-acp) wherever their path fell.
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
