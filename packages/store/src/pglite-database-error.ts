/**
 * A PostgreSQL error from PGlite run in a worker thread, with the fields of PGlite's own
 * `DatabaseError` (pg-protocol's: `code`, `detail`, `constraint`…), copied from the error the worker
 * caught (declared only: like PGlite's, an error has the fields PostgreSQL sent). Its own class so that the thread that only talks to the worker never loads PGlite's
 * JavaScript (~15 MB of RSS per isolate) to rebuild one: callers test the fields (`code`), as they
 * must for PostgreSQL's errors (postgres.js throws its own class), never the class.
 */
export class PgliteDatabaseError extends Error {
  declare severity: string | undefined;
  declare code: string | undefined;
  declare detail: string | undefined;
  declare hint: string | undefined;
  declare position: string | undefined;
  declare internalPosition: string | undefined;
  declare internalQuery: string | undefined;
  declare where: string | undefined;
  declare schema: string | undefined;
  declare table: string | undefined;
  declare column: string | undefined;
  declare dataType: string | undefined;
  declare constraint: string | undefined;
  declare file: string | undefined;
  declare line: string | undefined;
  declare routine: string | undefined;
  /** The protocol message's length, as PGlite's error has it. */
  declare length: number;
}
