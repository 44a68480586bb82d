import { PGlite } from '@electric-sql/pglite';
import type { Row, Sql, SqlClient } from './sql.js';

/**
 * PGlite in this process: data under `dataDir`, or in memory without one. PGlite serves one
 * connection, so its queries and transactions run one at a time (its own mutex).
 */
export async function pgliteClient(dataDir?: string): Promise<SqlClient> {
  const db = dataDir === undefined ? await PGlite.create() : await PGlite.create(dataDir);
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []) {
      return (await q.query<T>(text, params as unknown[])).rows;
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
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        // Closed already: nothing is listening any more.
        if (!db.closed) await unlisten();
      };
    },
    close: () => db.close(),
  };
}
