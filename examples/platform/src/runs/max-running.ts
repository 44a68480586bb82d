import { availableParallelism } from 'node:os';

/** Runs per core when `FORGE_MAX_RUNNING` is not given. */
export const RUNS_PER_CORE = 16;

/**
 * How many runs one instance executes at once unless told: 16 per core the process may use. A run mostly waits
 * on its model, so it is each agent's process (memory, the CLI's own CPU at start) that bounds an instance, not
 * the platform's event loop; on the 2-core machine this was measured on it gives the 32 that used to be fixed.
 */
export function defaultMaxRunning(cores: number = availableParallelism()): number {
  return Math.max(1, cores) * RUNS_PER_CORE;
}
