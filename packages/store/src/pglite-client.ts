import { PGlite } from '@electric-sql/pglite';
import type { Row, Sql, SqlClient } from './sql.js';
import { fromStorable, readableRows, storableParams } from './storable-text.js';

/**
 * PGlite in this process: data under `dataDir`, or in memory without one. PGlite serves one
 * connection, so its queries and transactions run one at a time (its own mutex). Strings cross
 * escaped where PostgreSQL could not hold them (storable-text.ts).
 */
export async function pgliteClient(dataDir?: string): Promise<SqlClient> {
  const db = dataDir === undefined ? await PGlite.create() : await PGlite.create(dataDir);
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
    engine: 'pglite',
    query: root.query,
    exec: root.exec,
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
