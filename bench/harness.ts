import { performance } from 'node:perf_hooks';

/** One line of the `pnpm bench` table: our figure beside a raw baseline measured in the same run. */
export interface BenchRow {
  name: string;
  /** What the figure counts, e.g. "events/s" or "MB/s". Higher is better unless `lowerIsBetter`. */
  unit: string;
  /** For costs such as resident memory (MB): the ratio is still ours / baseline, and smaller wins. */
  lowerIsBetter?: boolean;
  ours: number;
  baseline: number;
  baselineName: string;
  /** Goal for ours / baseline, when the issue sets one. */
  goal?: number;
  /** Goal as a ceiling on `ours` itself, in `unit` (with `lowerIsBetter`), e.g. ≤ 250 MB. */
  goalMax?: number;
  /** Goal as a floor on `ours` itself, in `unit`, e.g. ≥ 1,000 runs/s. */
  goalMin?: number;
  note?: string;
}

export interface BenchModule {
  title: string;
  run(): Promise<BenchRow[]>;
}

/**
 * Runs `fn` repeatedly and returns the best throughput in units per second.
 * Best-of-N is the usual way to filter scheduler noise on a shared 2-core machine.
 */
export async function throughput(units: number, fn: () => unknown | Promise<unknown>, rounds = 7): Promise<number> {
  await fn(); // warm-up: JIT and caches
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return units / (best / 1000);
}

/** How `compare` times a round: elapsed time, or the CPU time the process spent (user + system, every thread). */
export type Clock = 'wall' | 'cpu';

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Measures ours and baseline interleaved (A, B, A, B…) so drift on the machine hits both alike.
 *
 * `clock: 'cpu'` times each round by the process's CPU time instead of the wall clock. For work that never
 * waits (parsing and mapping in memory, or a client and its receiver in one process on loopback) the two agree on
 * an idle machine; on this shared 2-core machine at a load average of 15-20, a round of wall time is mostly time
 * spent descheduled, and best-of-N then measures the scheduler rather than the code. CPU time still counts the
 * garbage collector's helper threads, so allocation is not hidden.
 */
export async function compare(
  units: number,
  ours: () => unknown,
  baseline: () => unknown,
  rounds = 9,
  clock: Clock = 'wall',
): Promise<{ ours: number; baseline: number }> {
  const now = clock === 'cpu' ? cpuNow : () => performance.now();
  await ours();
  await baseline();
  let bestOurs = Number.POSITIVE_INFINITY;
  let bestBase = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    let t0 = now();
    await baseline();
    bestBase = Math.min(bestBase, now() - t0);
    t0 = now();
    await ours();
    bestOurs = Math.min(bestOurs, now() - t0);
  }
  return { ours: units / (bestOurs / 1000), baseline: units / (bestBase / 1000) };
}
