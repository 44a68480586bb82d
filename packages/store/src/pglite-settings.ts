/**
 * PostgreSQL's default 128 MB of shared buffers is touched at start: with it an idle PGlite holds
 * ~300 MB RSS, with 16 MB ~170 MB (below that the gain is small: 1 MB → ~150 MB). Passed on the
 * command line, so it holds for data dirs made before this setting, too; initdb also writes it
 * into a new dir's postgresql.conf. `work_mem`, `max_connections`, `temp_buffers` made no
 * measurable difference to an idle process; PGlite's `initialMemory` cannot go below its 128 MB.
 *
 * A module of its own so that what needs only the settings (initdb in a child, the template) does
 * not load PGlite's JavaScript into this thread.
 */
export const PGLITE_SETTINGS: readonly string[] = ['-c', 'shared_buffers=16MB'];
