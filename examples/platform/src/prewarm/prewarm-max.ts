import { availableParallelism, totalmem } from 'node:os';

const GIB = 1024 ** 3;

/**
 * Spare processes one instance keeps unless told (FORGE_PREWARM_MAX): one per core, at most one per GiB of
 * memory and 8 in all. A spare is a whole idle CLI (Claude Code 2.1.197 holds ~280 MB RSS waiting) that costs nothing
 * until a session takes it but its memory, so a small machine keeps a few for its busiest agents.
 */
export function defaultPrewarmMax(cores: number = availableParallelism(), memoryBytes: number = totalmem()): number {
  return Math.max(0, Math.min(8, cores, Math.floor(memoryBytes / GIB)));
}
