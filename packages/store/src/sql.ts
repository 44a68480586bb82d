/** A row as both engines return it: column name → value (jsonb parsed, numbers as numbers). */
export type Row = Record<string, unknown>;

/** What queries need: PostgreSQL SQL with `$1`-style parameters. */
export interface Sql {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
}

export type SqlEngine = 'pglite' | 'postgres';

/**
 * One database, whichever engine holds it. The same SQL runs on both: PGlite is PostgreSQL
 * compiled to WebAssembly, so there is no dialect to translate.
 */
export interface SqlClient extends Sql {
  readonly engine: SqlEngine;
  /** Runs `fn` in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` with the payload of every NOTIFY on `channel` (from any connection, this
   * process's or another's) until the returned function is called. Optional: without it, callers
   * poll. A notification can still be missed (a reconnect), so it only ever shortens a poll.
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
