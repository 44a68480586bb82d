import type { RunStatus } from '@forge/store';

const FINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/** Whether a run in this status has ended (and has its one run.completed). */
export const isFinal = (status: RunStatus) => FINAL.has(status);
