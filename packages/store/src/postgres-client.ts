import postgres from 'postgres';
import type { Row, Sql, SqlClient } from './sql.js';
import { fromStorable, readableRows, storableParams } from './storable-text.js';

export interface PostgresClientOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
}

/**
 * A PostgreSQL server through the `postgres` driver. int8 and numeric come back as numbers (the
 * schema keeps them within 2^53) so rows look the same as PGlite's. Strings cross escaped where
 * PostgreSQL could not hold them (storable-text.ts).
 */
export async function postgresClient(url: string, options: PostgresClientOptions = {}): Promise<SqlClient> {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: { application_name: 'forge' },
  });
  // Parse int8 as a number, not a string or BigInt: every int8 here is an id or a count.
  const fix = (rows: Row[]): Row[] => {
    for (const row of rows) for (const k in row) if (typeof row[k] === 'bigint') row[k] = Number(row[k]);
    return rows;
  };
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query<T extends Row>(text: string, params: readonly unknown[] = []) {
      return readableRows(
        fix((await q.unsafe(text, storableParams(params) as postgres.ParameterOrJSON<never>[])) as unknown as Row[]),
      ) as T[];
    },
    async exec(text) {
      await q.unsafe(text);
    },
  });
  await sql.unsafe('select 1'); // fail at start, not at the first request, when the server is unreachable
  const root = wrap(sql);
  return {
    engine: 'postgres',
    query: root.query,
    exec: root.exec,
    transaction: (fn) => sql.begin((tx) => fn(wrap(tx))) as Promise<never>,
    // One connection of its own for every channel, reconnected (and re-LISTENed) by the driver.
    async listen(channel, onNotify) {
      const { unlisten } = await sql.listen(channel, (payload) => onNotify(fromStorable(payload)));
      return () => unlisten();
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
