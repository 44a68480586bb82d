import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { protocol } from '@electric-sql/pglite';
import { openPgliteDatabase, type PgliteDatabase, type PgliteSource } from './pglite-database.js';
import type { Sql } from './sql.js';
import {
  PGLITE_WORKER_DATA,
  type StatementOutcome,
  toWire as toWireAs,
  type WorkerMessage,
  type WorkerRequest,
} from './pglite-worker-wire.js';

const toWire = (error: unknown) => toWireAs(error, protocol.messages.DatabaseError);

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
  const transactions = new Map<number, Promise<OpenTransaction>>();
  const listeners = new Map<number, () => Promise<void>>();
  let listenerIds = 0;

  /** Opens a transaction: resolves once PGlite is inside it, with what its statements run on and how it ends. */
  const begin = () =>
    new Promise<OpenTransaction>((opened, failed) => {
      let started = false;
      let finish!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => {
        finish = resolve;
      });
      const done = db.transaction(async (tx) => {
        started = true;
        opened({
          tx,
          async end(commit) {
            finish(commit);
            await done.catch((error: unknown) => {
              if (error !== ROLLBACK) throw error;
            });
          },
        });
        if (!(await decided)) throw ROLLBACK;
      });
      done.catch((error: unknown) => {
        if (!started) failed(error);
      });
    });
  /** The transaction a statement runs in, opened by the statement that says `begin`. */
  const transaction = (request: { tx: number; begin?: true }): Promise<OpenTransaction> => {
    if (request.begin) {
      const opening = begin();
      // A failed begin is the first statement's error; `end` then has nothing to do.
      opening.catch(() => transactions.delete(request.tx));
      transactions.set(request.tx, opening);
    }
    const open = transactions.get(request.tx);
    if (!open) throw new Error(`No open transaction ${request.tx} in the PGlite worker`);
    return open;
  };

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
        if (request.tx === undefined) return db.exec(request.text);
        return (await transaction({ tx: request.tx, ...(request.begin ? { begin: true } : {}) })).tx.exec(request.text);
      case 'query':
        return (await transaction(request)).tx.query(request.text, request.params);
      case 'end': {
        const open = transactions.get(request.tx);
        transactions.delete(request.tx);
        const opened = await open?.catch(() => undefined);
        return opened?.end(request.commit);
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
