import { Worker } from 'node:worker_threads';
import { ForgeError } from '@forge/core';
import type { PgliteDatabase, PgliteSource } from './pglite-database.js';
import { PgliteDatabaseError } from './pglite-database-error.js';
import {
  PGLITE_WORKER_DATA,
  type StatementOutcome,
  type WireError,
  type WorkerMessage,
  type WorkerRequest,
} from './pglite-worker-wire.js';
import { pgliteWorkerSource } from './pglite-worker-source.js';
import { pgliteWasm } from './pglite-wasm.js';
import type { Row, Sql } from './sql.js';
import { startWithOwnYoungGeneration } from './worker-young-generation.js';

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The worker's JavaScript is PGlite's and a few hundred lines: a small young generation is enough (RSS). */
const resourceLimits = { maxYoungGenerationSizeMb: 4 };

/**
 * The worker's script beside this module: `pglite-worker.js` / `.cjs` in the built package (its own
 * tsup entry). From source (tsx, vitest), a worker thread does not get the loader that made this
 * module's TypeScript runnable: it runs the script bundled to plain JavaScript (pglite-worker-source.ts).
 */
async function startWorker(source: PgliteSource): Promise<Worker> {
  const here = import.meta.url;
  const workerData = { [PGLITE_WORKER_DATA]: source };
  if (here.endsWith('.ts')) {
    const script = await pgliteWorkerSource();
    return startWithOwnYoungGeneration(() => new Worker(script, { eval: true, workerData, resourceLimits }));
  }
  const file = new URL(here.endsWith('.cjs') ? './pglite-worker.cjs' : './pglite-worker.js', here);
  return startWithOwnYoungGeneration(() => new Worker(file, { workerData, resourceLimits }));
}

/**
 * The error the worker sent, as the same type (a PostgreSQL error as PgliteDatabaseError, with PGlite's
 * fields): callers test `code`, `instanceof ForgeError`, `query`.
 */
function fromWire(wire: WireError): Error {
  const { props } = wire;
  let error: Error;
  if (wire.kind === 'database') error = new PgliteDatabaseError(wire.message);
  else if (wire.kind === 'forge')
    error = new ForgeError(String(props.code), wire.message, props.category as ForgeError['category'], {
      retryable: props.retryable === true,
      details: props.details as Record<string, unknown> | undefined,
    });
  else error = new Error(wire.message);
  Object.assign(error, props);
  error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/**
 * PGlite in a worker thread (pglite-worker.ts): PGlite runs statements synchronously in
 * WebAssembly, so in the platform's thread a batch of them was a pause its event loop could not
 * break (event-loop delay p99 323–333 ms at 1,000 concurrent runs). Here the thread only posts a
 * batch and reads its rows back. The worker keeps the process alive only while a request waits
 * for its answer (as a statement in this thread would), and `close()` ends it.
 */
export async function openPgliteWorker(source: PgliteSource): Promise<PgliteDatabase> {
  const worker = await startWorker({ ...source, wasmModule: await pgliteWasm() });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  const listeners = new Map<number, (payload: string) => void>();
  let ids = 0;
  let transactions = 0;
  /** Why requests are refused from now on: closed, or the worker ended. */
  let refused: Error | undefined;
  let started!: { resolve: () => void; reject: (error: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => {
    started = { resolve, reject };
  });

  const settle = (id: number) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
    return entry;
  };
  worker.on('message', (message: WorkerMessage) => {
    if ('notify' in message) listeners.get(message.notify)?.(message.payload);
    else if ('ready' in message) started.resolve();
    else if ('failed' in message) started.reject(fromWire(message.failed));
    else {
      const entry = settle(message.id);
      if (message.error) entry?.reject(fromWire(message.error));
      else entry?.resolve(message.value);
    }
  });
  const ended = (error: Error) => {
    refused ??= error;
    started.reject(error);
    for (const id of [...waiting.keys()]) settle(id)?.reject(error);
  };
  worker.on('error', (error) =>
    ended(
      new ForgeError('STORE_FAILED', `The PGlite worker thread failed: ${error.message}`, 'internal', { cause: error }),
    ),
  );
  worker.on('exit', (code) =>
    ended(new ForgeError('STORE_FAILED', `The PGlite worker thread exited (code ${code})`, 'internal')),
  );

  const request = <T>(message: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (refused) return reject(refused);
      const id = ++ids;
      try {
        worker.postMessage({ ...message, id });
      } catch (error) {
        // A parameter structured clone cannot copy (a function): this statement's error, as PGlite would refuse it.
        return reject(error);
      }
      if (waiting.size === 0) worker.ref();
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });

  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.unref();

  let closing: Promise<void> | undefined;
  return {
    async run(batch) {
      let outcomes: StatementOutcome[];
      try {
        outcomes = await request<StatementOutcome[]>({
          op: 'run',
          statements: batch.map((s) => ({ text: s.text, params: s.params })),
        });
      } catch (error) {
        for (const s of batch) s.reject(error);
        return;
      }
      batch.forEach((s, i) => {
        const outcome = outcomes[i];
        if (outcome && 'rows' in outcome) s.resolve(outcome.rows);
        else s.reject(outcome ? fromWire(outcome.error) : new Error('PGlite did not answer the statement'));
      });
    },
    exec: (text) => request({ op: 'exec', text }),
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      const tx = ++transactions;
      // The first statement opens the transaction in the worker; messages keep their order, so the others follow it.
      let begun = false;
      const begin = (): { begin?: true } => {
        if (begun) return {};
        begun = true;
        return { begin: true };
      };
      const sql: Sql = {
        query: <T extends Row>(text: string, params: readonly unknown[] = []) =>
          request<T[]>({ op: 'query', text, params, tx, ...begin() }),
        exec: (text) => request({ op: 'exec', text, tx, ...begin() }),
      };
      let result: T;
      try {
        result = await fn(sql);
      } catch (error) {
        if (begun) await request({ op: 'end', tx, commit: false }).catch(() => {});
        throw error;
      }
      if (begun) await request({ op: 'end', tx, commit: true });
      return result;
    },
    async listen(channel, onNotify) {
      const listener = await request<number>({ op: 'listen', channel });
      listeners.set(listener, onNotify);
      return async () => {
        listeners.delete(listener);
        // Closed already: nothing is listening any more.
        if (!refused) await request({ op: 'unlisten', listener });
      };
    },
    close() {
      closing ??= (async () => {
        try {
          if (!refused) await request({ op: 'close' });
        } finally {
          refused = new Error('PGlite is closed');
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
