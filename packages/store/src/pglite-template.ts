import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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
  template ??= (file ? handedTemplate(file) : initialisedTarballFromChild(PGLITE_SETTINGS)).catch((error: unknown) => {
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

/**
 * The FORGE_PGLITE_TEMPLATE file, once it is there: a test runner makes it in the background while the first test
 * files run (scripts/test-support/pglite-template-setup.ts), renaming it into place whole, or writing why it could
 * not beside it (`<file>.failed`).
 */
async function handedTemplate(file: string): Promise<Uint8Array> {
  for (const deadline = Date.now() + 300_000; ; await sleep(50)) {
    try {
      return await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() > deadline) throw error;
    }
    const failed = await readFile(`${file}.failed`, 'utf8').catch(() => undefined);
    if (failed !== undefined) throw new Error(`${PGLITE_TEMPLATE_ENV} could not be made: ${failed}`);
  }
}
