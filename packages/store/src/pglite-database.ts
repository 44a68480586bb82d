import { PGlite } from '@electric-sql/pglite';
import { PglitePipeline, type PipelinedStatement } from './pglite-pipeline.js';
import { PGLITE_SETTINGS } from './pglite-settings.js';
import type { Row, Sql } from './sql.js';
import { fromStorable, readableRows, storableParams } from './storable-text.js';

/**
 * Where an initialised database is: a data dir (a new one filled from `tarball` when given), or a
 * tarball (`dumpDataDir`) to open in memory;
 * with PGlite's WebAssembly compiled already (see pglite-worker-client.ts).
 */
export type PgliteSource = ({ dataDir: string; tarball?: Uint8Array } | { tarball: Uint8Array }) & {
  wasmModule?: WebAssembly.Module;
};

/**
 * One PGlite database, wherever it runs: in this thread (`openPgliteDatabase`) or in a worker
 * thread (`openPgliteWorker`). Strings cross escaped where PostgreSQL could not hold them
 * (storable-text.ts); statements pipelined (pglite-pipeline.ts).
 */
export interface PgliteDatabase {
  /** Runs `batch` in order in as few calls into PGlite as it can, settling each statement. */
  run(batch: PipelinedStatement[]): Promise<void>;
  exec(text: string): Promise<void>;
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Opens an initialised database in this thread: its statements run synchronously on this thread's event loop. */
export async function openPgliteDatabase(source: PgliteSource): Promise<PgliteDatabase> {
  const options = {
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
    ...(source.wasmModule ? { pgliteWasmModule: source.wasmModule } : {}),
  };
  // A tarball with a data dir fills a new dir from it (pglite-template.ts) instead of an initdb.
  const loadDataDir = source.tarball ? { loadDataDir: new Blob([source.tarball as Uint8Array<ArrayBuffer>]) } : {};
  const db =
    'dataDir' in source
      ? await PGlite.create(source.dataDir, { ...options, ...loadDataDir })
      : await PGlite.create({ ...options, ...loadDataDir });
  const pipeline = new PglitePipeline(db);
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []) {
      return readableRows((await q.query<T>(text, storableParams(params))).rows);
    },
    async exec(text) {
      await q.exec(text);
    },
  });
  const root = wrap(db);
  return {
    run: (batch) =>
      pipeline.run(
        batch.map((s) => ({
          text: s.text,
          params: storableParams(s.params),
          resolve: (rows) => s.resolve(readableRows(rows)),
          reject: s.reject,
        })),
      ),
    exec: (text) => root.exec(text),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
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
