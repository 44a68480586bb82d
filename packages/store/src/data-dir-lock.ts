import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '@forge/core';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * PGlite's files take one process: a second one opening them would corrupt the database. The lock
 * file names the holder's pid; a lock left by a process that died (kill -9) is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'forge-store.lock');
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) throw error;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
        throw new ForgeError(
          'STORE_LOCKED',
          `The embedded database in ${dir} is in use by process ${holder}; run replicas on PostgreSQL (FORGE_DATABASE_URL)`,
          'conflict',
        );
      await rm(path, { force: true });
    }
  }
}
