import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { initDataDirInChild } from './pglite-initdb.js';
import {
  initialisedTarball,
  knownTarball,
  pgliteSettings,
  pgliteStartParams as startParams,
} from './pglite-template.js';
import type { Row, Sql, SqlClient } from './sql.js';
import { LoopTurns } from './loop-turns.js';
import { PglitePipeline, type PipelinedStatement } from './pglite-pipeline.js';
import { fromStorable, readableRows, storableParams } from './storable-text.js';

/** Statements sent to PGlite in one call at most: a batch is one turn of the event loop's wait (LoopTurns). */
const MAX_BATCH = 32;

/**
 * PGlite in this process: data under `dataDir`, or in memory without one. A new database is
 * unpacked from the process's one initialised tarball (pglite-template.ts); a new data dir is, when the process
 * has that tarball already, else it is initialised in a child process (pglite-initdb.ts). PGlite serves one
 * connection, so its queries and transactions run one at a time (its own mutex). Strings cross
 * escaped where PostgreSQL could not hold them (storable-text.ts).
 */
export async function pgliteClient(dataDir?: string): Promise<SqlClient> {
  let db: PGlite;
  // initdb in this process would keep its ~600 MB for the process's life (see pglite-initdb.ts).
  const unpack = async (tarball: Promise<Uint8Array>) => ({
    loadDataDir: new Blob([(await tarball) as Uint8Array<ArrayBuffer>]),
  });
  if (dataDir === undefined) db = await PGlite.create({ startParams, ...(await unpack(initialisedTarball())) });
  else {
    const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
    const tarball = fresh ? knownTarball() : undefined;
    if (fresh && !tarball) await initDataDirInChild(dataDir, pgliteSettings);
    db = await PGlite.create(dataDir, { startParams, ...(tarball ? await unpack(tarball) : {}) });
  }
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []) {
      return readableRows((await q.query<T>(text, storableParams(params))).rows);
    },
    async exec(text) {
      await q.exec(text);
    },
  });
  const root = wrap(db);
  const turns = new LoopTurns();
  const pipeline = new PglitePipeline(db);
  /** The batch still taking statements: those queued while the statements before them run go in one call. */
  let open: PipelinedStatement[] | undefined;
  /** What is not a plain statement (exec, a transaction) closes the open batch: everything keeps the order it was sent in. */
  const alone = <T>(fn: () => Promise<T>) => {
    open = undefined;
    return turns.next(fn);
  };
  return {
    engine: 'pglite',
    query<T extends Row>(text: string, params: readonly unknown[] = []) {
      return new Promise<T[]>((resolve, reject) => {
        const statement: PipelinedStatement = {
          text,
          params: storableParams(params),
          resolve: (rows) => resolve(readableRows(rows as T[])),
          reject,
        };
        if (open && open.length < MAX_BATCH) {
          open.push(statement);
          return;
        }
        const batch = [statement];
        open = batch;
        void turns.next(() => {
          if (open === batch) open = undefined;
          return pipeline.run(batch);
        });
      });
    },
    exec: (text) => alone(() => root.exec(text)),
    // A transaction is one turn: its own statements run inside it, as PGlite runs them.
    transaction: (fn) => alone(() => db.transaction((tx) => fn(wrap(tx)))),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, (payload) => onNotify(fromStorable(payload)));
      return async () => {
        // Closed already: nothing is listening any more.
        if (!db.closed) await unlisten();
      };
    },
    close: () => db.close(),
  };
}
