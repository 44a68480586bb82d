import { readFile } from 'node:fs/promises';
import { PGLITE_SETTINGS } from './pglite-settings.js';
import { initialisedTarballFromChild } from './pglite-initdb.js';

/**
 * A file holding `initialisedTarball()` of a process with this same PGlite, for processes a test starts
 * (`pgliteTemplateFile` in @forge/store/testing): their new databases skip initdb too. Never set in production.
 */
export const PGLITE_TEMPLATE_ENV = 'FORGE_PGLITE_TEMPLATE';

// One initdb per process (tests open many databases, in memory and in new data dirs): the tarball is immutable.
let template: Promise<Uint8Array> | undefined;

/**
 * A freshly initialised database (PGlite's gzipped `dumpDataDir`), made once per process in a child process
 * (see pglite-initdb.ts): an initdb costs ~6.5 s of CPU, unpacking its result well under one. In-memory
 * databases start from it.
 */
export function initialisedTarball(): Promise<Uint8Array> {
  const file = process.env[PGLITE_TEMPLATE_ENV];
  template ??= (file ? readFile(file) : initialisedTarballFromChild(PGLITE_SETTINGS)).catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

/**
 * The tarball when this process has one already (it opened an in-memory database, or was handed
 * FORGE_PGLITE_TEMPLATE), for a new data dir. Otherwise undefined, and the data dir gets an initdb of its own in
 * a child as before: a platform opens one data dir in its life and would gain nothing from making a tarball (the
 * resident memory of a bare process after either path overlapped: 269–332 MB in a few samples).
 */
export function knownTarball(): Promise<Uint8Array> | undefined {
  return template ?? (process.env[PGLITE_TEMPLATE_ENV] ? initialisedTarball() : undefined);
}
