import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialisedTarball, PGLITE_TEMPLATE_ENV } from '../pglite-template.js';

let file: Promise<string> | undefined;

/**
 * This process's initialised PGlite database, as a file a platform process the test starts is given in
 * FORGE_PGLITE_TEMPLATE: its new data dir (or in-memory store) is unpacked from it instead of running its own
 * initdb (~6.5 s of CPU). One per test process, removed when the process exits; the one this process was handed
 * in FORGE_PGLITE_TEMPLATE when it has one (a test runner's global setup made it once for every worker).
 */
export function pgliteTemplateFile(): Promise<string> {
  const handed = process.env[PGLITE_TEMPLATE_ENV];
  if (handed) return Promise.resolve(handed);
  file ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-pglite-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'pgdata.tar.gz');
    await writeFile(path, await initialisedTarball());
    return path;
  })();
  return file;
}

/** The environment that hands `pgliteTemplateFile()` to a child process. */
export async function pgliteTemplateEnv(): Promise<Record<string, string>> {
  return { [PGLITE_TEMPLATE_ENV]: await pgliteTemplateFile() };
}

/**
 * Makes this process's initialised PGlite database now: the new data dirs it opens after this are unpacked from it
 * instead of each running initdb in a child (~6.5 s of CPU each), as its in-memory databases are.
 */
export async function preparePgliteTemplate(): Promise<void> {
  await initialisedTarball();
}
