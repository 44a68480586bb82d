import { RunLeaseLostError } from '@forge/store';

/**
 * Whether a failed write failed because another instance holds the run now (the run is its
 * business), as opposed to any other failure (the run must be ended here). The one place that
 * tells them apart.
 */
export const isLeaseLost = (error: unknown): boolean => error instanceof RunLeaseLostError;
