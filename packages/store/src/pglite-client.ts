import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initDataDirInChild } from './pglite-initdb.js';
import { initialisedTarball, knownTarball } from './pglite-template.js';
import type { Row, SqlClient } from './sql.js';
import { LoopTurns } from './loop-turns.js';
import type { PgliteDatabase, PgliteSource } from './pglite-database.js';
import type { PipelinedStatement } from './pglite-pipeline.js';
import { PGLITE_SETTINGS } from './pglite-settings.js';
import { openPgliteWorker } from './pglite-worker-client.js';
import { pgliteWasm } from './pglite-wasm.js';

/**
 * Statements sent to PGlite in one call at most. In this thread a batch is one turn of the event
 * loop's wait (LoopTurns); in the worker, one message each way.
 */
const MAX_BATCH = 32;

export interface PgliteClientOptions {
  /**
   * Run PGlite in a worker thread: its statements run synchronously in WebAssembly, and in this
   * thread each batch of them is a pause of the event loop (timers, sockets, SSE readers wait:
   * event-loop delay p99 at 1,000 concurrent runs 22.8–23.5 ms in the worker at load 3–5 vs 58–66 ms
   * here on a quiet machine). The worker costs no more idle memory than this thread: this thread then never
   * loads PGlite's JavaScript, the worker runs plain JavaScript (no TypeScript loader) with its own
   * young generation, and the wasm file's bytes are freed once compiled — idle `pnpm start` 230–235 MB
   * with the worker vs 220–241 MB here (bench/README.md, "A light PGlite worker"). The platform turns
   * it on (FORGE_PGLITE_WORKER=0 turns it off); opening a new data dir costs the same CPU either way
   * (1.2–1.3 s vs 1.3–1.6 s, load 3). Off by default here: each statement of a transaction is a round
   * trip to the worker, which a loaded machine makes slow (bench/README.md, "PGlite in a worker thread").
   */
  worker?: boolean;
}

/**
 * Loaded only when PGlite runs in this thread: with it in a worker, this thread never loads PGlite's
 * JavaScript (~15 MB of RSS an isolate holds once it has).
 */
async function openInThisThread(source: PgliteSource): Promise<PgliteDatabase> {
  const { openPgliteDatabase } = await import('./pglite-database.js');
  // Compiled here rather than by PGlite: its copy of the file's bytes would stay until a full GC (pglite-wasm.ts).
  return openPgliteDatabase({ ...source, wasmModule: await pgliteWasm() });
}

/**
 * PGlite: data under `dataDir`, or in memory without one. A new database is unpacked from the process's
 * one initialised tarball (pglite-template.ts) when the process has it, else initialised in a child
 * process (see pglite-initdb.ts). PGlite serves one connection, so its queries and transactions run
 * one at a time; plain statements queued while others run go in one batch (pglite-pipeline.ts).
 */
export async function pgliteClient(dataDir?: string, options: PgliteClientOptions = {}): Promise<SqlClient> {
  let source: PgliteSource;
  if (dataDir === undefined) source = { tarball: await initialisedTarball() };
  else {
    const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
    const tarball = fresh ? knownTarball() : undefined;
    // initdb in this process would keep its ~600 MB for the process's life (see pglite-initdb.ts).
    if (fresh && !tarball) await initDataDirInChild(dataDir, PGLITE_SETTINGS);
    source = tarball ? { dataDir, tarball: await tarball } : { dataDir };
  }
  const inWorker = options.worker ?? false;
  const db = inWorker ? await openPgliteWorker(source) : await openInThisThread(source);
  // In the worker the statements do not hold this thread's event loop: no turn to give it back.
  const turns = new LoopTurns(inWorker ? Number.POSITIVE_INFINITY : undefined);
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
        const statement: PipelinedStatement = { text, params, resolve: resolve as (rows: Row[]) => void, reject };
        if (open && open.length < MAX_BATCH) {
          open.push(statement);
          return;
        }
        const batch = [statement];
        open = batch;
        void turns.next(() => {
          if (open === batch) open = undefined;
          return db.run(batch);
        });
      });
    },
    exec: (text) => alone(() => db.exec(text)),
    // A transaction is one turn: its own statements run inside it, as PGlite runs them.
    transaction: (fn) => alone(() => db.transaction(fn)),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
  };
}
