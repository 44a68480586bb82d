import { ForgeError } from '@forge/core';

/**
 * The write was refused because `owner` no longer holds the run (another instance took it over, or
 * it ended): the writer must stop executing it and leave it alone. Nothing of the write was kept.
 */
export class RunLeaseLostError extends ForgeError {
  constructor(requestId: string) {
    super('RUN_LEASE_LOST', `Run ${requestId} is no longer held by this instance`, 'conflict', {
      details: { requestId },
    });
  }
}

/**
 * The database failed the write for any other reason (unreachable, a constraint, a statement
 * error): the writer still holds the run as far as it knows, so it must end it itself rather
 * than leave it running. Nothing of the write was kept. `cause` is the driver's error;
 * `details.sqlState` its SQLSTATE when it has one.
 */
export class RunStoreWriteError extends ForgeError {
  constructor(requestId: string, cause: unknown) {
    const sqlState = (cause as { code?: unknown } | null)?.code;
    super(
      'STORE_WRITE_FAILED',
      `Could not store run ${requestId}: ${cause instanceof Error ? cause.message : String(cause)}`,
      'internal',
      { cause, details: { requestId, ...(typeof sqlState === 'string' ? { sqlState } : {}) } },
    );
  }
}
