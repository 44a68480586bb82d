import type { Row } from './sql.js';

/** Set in `workerData` by openPgliteWorker: pglite-worker.ts does nothing when loaded any other way. */
export const PGLITE_WORKER_DATA = 'forgePglite';

/** What the PGlite worker is asked (pglite-worker.ts); `id` pairs a request with its reply. */
export type WorkerRequest =
  | { id: number; op: 'run'; statements: Array<{ text: string; params: readonly unknown[] }> }
  /**
   * In transaction `tx` when given; `begin` opens it first (with its first statement: one round trip
   * less per transaction, and the event loop waits on none while a transaction holds PGlite).
   */
  | { id: number; op: 'exec'; text: string; tx?: number; begin?: true }
  | { id: number; op: 'query'; text: string; params: readonly unknown[]; tx: number; begin?: true }
  /** Commits or rolls back transaction `tx` (nothing to do if no statement opened it). */
  | { id: number; op: 'end'; tx: number; commit: boolean }
  /** Its reply's value is the listener's number, carried by each `notify`. */
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; listener: number }
  | { id: number; op: 'close' };

/** A `run` reply's value: each statement's rows or error, in the batch's order. */
export type StatementOutcome = { rows: Row[] } | { error: WireError };

export type WorkerMessage =
  | { id: number; value?: unknown; error?: WireError }
  | { notify: number; payload: string }
  | { ready: true }
  | { failed: WireError };

/** An error as it crosses to the other thread: structured clone keeps only an Error's message and stack. */
export interface WireError {
  kind: 'database' | 'forge' | 'error';
  name: string;
  message: string;
  stack?: string;
  props: Record<string, unknown>;
}

/**
 * `error` as it can be posted: PostgreSQL's fields (`code`, `detail`…), a ForgeError's code and category.
 * `DatabaseError` is PGlite's class, passed in by the worker: this module is also the client's, whose thread
 * does not load PGlite.
 */
export function toWire(error: unknown, DatabaseError: abstract new (...args: never[]) => Error): WireError {
  if (!(error instanceof Error)) return { kind: 'error', name: 'Error', message: String(error), props: {} };
  // Duck-typed: the worker does not load @forge/core for this (an isolate's memory is the cost of a module).
  const forge = typeof (error as { code?: unknown }).code === 'string' && 'category' in error;
  const kind = error instanceof DatabaseError ? 'database' : forge ? 'forge' : 'error';
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    try {
      props[key] = structuredClone(value);
    } catch {
      // Not cloneable (a function, a socket): the rest of the error still crosses.
    }
  }
  return { kind, name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}), props };
}
