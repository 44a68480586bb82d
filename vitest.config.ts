import { availableParallelism, loadavg } from 'node:os';
import { defineConfig } from 'vitest/config';
import SlowestFilesReporter from './scripts/test-support/slowest-files-reporter.js';

/*
 * Files run in parallel: up to twice as many as there are cores (at least 4; FORGE_TEST_WORKERS overrides).
 * Vitest's default, cores - 1, is ONE worker on a 2-core machine: the suite then runs file after file, and the
 * integration files, which mostly wait for a real CLI or server, leave the CPU idle while they wait. On a
 * machine that is already busy (load average above the cores) fewer start, never under 2: with 4 workers at a
 * load of 15-25 on 2 cores, CPU-bound files (PGlite, tsup builds) ran into their timeouts.
 */
const cores = availableParallelism();
const most = Math.max(4, cores * 2);
const busy = Math.max(0, Math.round(loadavg()[0]! - cores));
const workers = Number(process.env.FORGE_TEST_WORKERS) || Math.max(2, most - busy);

export default defineConfig({
  resolve: {
    // Resolve workspace packages to their TypeScript sources, so tests need no build step.
    conditions: ['@forge/source'],
  },
  ssr: { resolve: { conditions: ['@forge/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    maxWorkers: workers,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', new SlowestFilesReporter(10)],
  },
});
