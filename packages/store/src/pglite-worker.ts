import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { openPgliteDatabase, type PgliteDatabase, type PgliteSource } from './pglite-database.js';
import type { Sql } from './sql.js';
import {
  PGLITE_WORKER_DATA,
  type StatementOutcome,
  toWire,
  type WorkerMessage,
  type WorkerRequest,
} from './pglite-worker-wire.js';

/** Thrown inside a transaction's function to have PGlite roll it back: the caller asked for it, it is no error. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  tx: Sql;
  end(commit: boolean): Promise<void>;
}

/**
 * The PGlite worker thread: owns one PGlite database and answers pglite-worker-client.ts's
 * requests, so PGlite's synchronous WebAssembly runs here and not on the platform's event loop.
 */
async function serve(port: MessagePort, source: PgliteSource): Promise<void> {
  const post = (message: WorkerMessage) => port.postMessage(message);
  let db: PgliteDatabase;
  try {
    db = await openPgliteDatabase(source);
  } catch (error) {
    post({ failed: toWire(error) });
    return;
  }
  const transactions = new Map<number, OpenTransaction>();
  const listeners = new Map<number, () => Promise<void>>();
  let listenerIds = 0;

  const begin = (id: number) =>
    new Promise<void>((opened, failed) => {
      let started = false;
      let finish!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => {
        finish = resolve;
      });
      const done = db.transaction(async (tx) => {
        started = true;
        transactions.set(id, {
          tx,
          async end(commit) {
            finish(commit);
            await done.catch((error: unknown) => {
              if (error !== ROLLBACK) throw error;
            });
          },
        });
        opened();
        if (!(await decided)) throw ROLLBACK;
      });
      done.catch((error: unknown) => {
        if (!started) failed(error);
      });
    });

  const answer = async (request: WorkerRequest): Promise<unknown> => {
    switch (request.op) {
      case 'run': {
        const outcomes: StatementOutcome[] = new Array(request.statements.length);
        await db.run(
          request.statements.map((s, i) => ({
            ...s,
            resolve: (rows) => {
              outcomes[i] = { rows };
            },
            reject: (error) => {
              outcomes[i] = { error: toWire(error) };
            },
          })),
        );
        return outcomes;
      }
      case 'exec':
        return request.tx === undefined ? db.exec(request.text) : transaction(request.tx).exec(request.text);
      case 'query':
        return transaction(request.tx).query(request.text, request.params);
      case 'begin':
        await begin(request.id);
        return request.id;
      case 'end': {
        const open = transactions.get(request.tx);
        transactions.delete(request.tx);
        return open?.end(request.commit);
      }
      case 'listen': {
        const listener = ++listenerIds;
        listeners.set(listener, await db.listen(request.channel, (payload) => post({ notify: listener, payload })));
        return listener;
      }
      case 'unlisten': {
        const unlisten = listeners.get(request.listener);
        listeners.delete(request.listener);
        return unlisten?.();
      }
      case 'close':
        return db.close();
    }
  };
  const transaction = (tx: number) => {
    const open = transactions.get(tx);
    if (!open) throw new Error(`No open transaction ${tx} in the PGlite worker`);
    return open.tx;
  };

  port.on('message', (request: WorkerRequest) => {
    answer(request).then(
      (value) => post(value === undefined ? { id: request.id } : { id: request.id, value }),
      (error: unknown) => post({ id: request.id, error: toWire(error) }),
    );
  });
  post({ ready: true });
}

const data = workerData as Record<string, unknown> | null | undefined;
if (parentPort && data?.[PGLITE_WORKER_DATA]) void serve(parentPort, data[PGLITE_WORKER_DATA] as PgliteSource);
