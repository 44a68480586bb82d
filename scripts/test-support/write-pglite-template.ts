// Writes a freshly initialised PGlite database (the store's initdb tarball) to the path given, whole or not at all
// (written aside, then renamed), or the reason it could not beside it: see pglite-template-setup.ts.
import { rename, writeFile } from 'node:fs/promises';
import { initialisedTarballFromChild } from '../../packages/store/src/pglite-initdb.js';
import { PGLITE_SETTINGS } from '../../packages/store/src/pglite-settings.js';

const file = process.argv[2]!;
try {
  await writeFile(`${file}.partial`, await initialisedTarballFromChild(PGLITE_SETTINGS));
  await rename(`${file}.partial`, file);
} catch (error) {
  await writeFile(`${file}.failed`, String((error as Error).stack ?? error));
  process.exitCode = 1;
}
