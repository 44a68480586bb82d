import { availableParallelism, loadavg } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import SlowFirstSequencer from './scripts/test-support/slow-first-sequencer.js';
import SlowestFilesReporter from './scripts/test-support/slowest-files-reporter.js';

/*
 * Files run in parallel: twice as many as there are cores and one more (at least 5; FORGE_TEST_WORKERS overrides).
 * Vitest's default, cores - 1, is ONE worker on a 2-core machine: the suite then runs file after file, and the
 * integration files, which mostly wait for a real CLI or server, leave the CPU idle while they wait. Four workers
 * still left ~15 % of two cores idle (398 s wall for 678 s of CPU); five: 377 s for 633 s, every test passing
 * (2026-12-07). On a machine that others keep busy (load average above three times the cores) fewer start, never
 * under 2: with 4 workers at a load of 15-25 on 2 cores, CPU-bound files (PGlite, tsup builds) ran into their
 * timeouts. Below that the load is mostly this run's own past (CI builds the packages just before; the 1-minute
 * average lags): reducing for it left a fresh-clone CI run at 2 workers, 468 s wall for 662 s of CPU on 2 cores.
 */
const cores = availableParallelism();
const most = Math.max(5, cores * 2 + 1);
const busy = Math.max(0, Math.round(loadavg()[0]! - 3 * cores));
const workers = Number(process.env.FORGE_TEST_WORKERS) || Math.max(2, most - busy);

/*
 * Most files share their worker process and its loaded modules with the files before them (`isolate: false`):
 * with isolation, every file started a new process that loaded and compiled its whole module graph again
 * (vitest's `import` time, 369 s of 893 s in a fresh-clone run) and opened PGlite from a cold start (its
 * WebAssembly compiled again, initdb run again). Vitest still restores spies and config after each file.
 * A file that replaces modules (`vi.mock`) must not share: its mocks would leak into the files after it.
 */
const isolated = ['packages/ai-sdk/src/to-ui-message-stream.ai5.test.ts', 'packages/transport-grpc/src/auth.test.ts'];
const include = [
  'packages/*/src/**/*.test.ts',
  'scripts/**/*.test.ts',
  'examples/*/src/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
];

export default defineConfig({
  resolve: {
    // Resolve workspace packages to their TypeScript sources, so tests need no build step.
    conditions: ['@forge/source'],
  },
  ssr: { resolve: { conditions: ['@forge/source'] } },
  test: {
    // One initialised PGlite database for the run, instead of one per worker, and one bundle of each program a
    // test starts as a child process (see the files).
    globalSetup: ['./scripts/test-support/pglite-template-setup.ts', './scripts/test-support/program-bundles-setup.ts'],
    maxWorkers: workers,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: { name: 'shared', include, exclude: [...configDefaults.exclude, ...isolated], isolate: false },
      },
      { extends: true, test: { name: 'isolated', include: isolated } },
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', new SlowestFilesReporter(10)],
  },
});
