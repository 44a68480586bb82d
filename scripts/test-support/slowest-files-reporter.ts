import { loadavg } from 'node:os';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { treeCpuSeconds } from './run-cpu-seconds.js';

/** Seconds a file took in its worker: harness setup, import, then its tests and hooks. */
export function fileSeconds(module: TestModule): number {
  const d = module.diagnostic();
  return (d.prepareDuration + d.environmentSetupDuration + d.setupDuration + d.collectDuration + d.duration) / 1000;
}

/**
 * Prints the slowest test files after a run, with the run's CPU seconds (vitest and every process under it)
 * and the load average: on a small shared machine a wall figure means little without them. Where the test
 * loop's time goes is the first thing to know before making it faster.
 */
export default class SlowestFilesReporter implements Reporter {
  private started = 0;
  private startedCpu: number | undefined;
  private workers: number | undefined;

  constructor(private readonly count = 10) {}

  onInit(vitest: Vitest): void {
    // How many files ran at once: vitest.config.ts chooses it from the cores and the load when the run starts.
    this.workers = vitest.config.maxWorkers;
  }

  onTestRunStart(): void {
    this.started = performance.now();
    this.startedCpu = treeCpuSeconds();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (modules.length < 2) return;
    const slowest = [...modules]
      .map((m) => ({ file: m.relativeModuleId, seconds: fileSeconds(m) }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, this.count);
    const wall = (performance.now() - this.started) / 1000;
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const cpuNow = treeCpuSeconds();
    const cpu =
      cpuNow !== undefined && this.startedCpu !== undefined ? `, CPU ${(cpuNow - this.startedCpu).toFixed(0)} s` : '';
    const lines = slowest.map((s) => `  ${s.seconds.toFixed(1).padStart(7)} s  ${s.file}`);
    process.stdout.write(
      `\nSlowest ${slowest.length} of ${modules.length} files (${this.workers ?? '?'} workers, wall ${wall.toFixed(0)} s${cpu}, load average ${load}):\n${lines.join('\n')}\n`,
    );
  }
}
