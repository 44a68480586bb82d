import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global setup: one initialised PGlite database for the whole run, handed to every worker (and every
 * process a test starts with this environment) in FORGE_PGLITE_TEMPLATE. Each worker process made its own before:
 * ~6.5 s of CPU each, all at once at the start, when the files that open a store first ran into their timeouts
 * on a busy machine. It is made in the background (a child process with the workspace's source condition, which
 * this file is loaded without): the files that need it wait for it (pglite-template.ts), the others do not.
 */
export default function setup(): () => void {
  // Vitest runs a global setup once per project (the shared and the isolated one): one template serves both.
  if (process.env.FORGE_PGLITE_TEMPLATE) return () => {};
  const dir = mkdtempSync(join(tmpdir(), 'forge-pglite-template-'));
  const file = join(dir, 'pgdata.tar.gz');
  const child = spawn(
    process.execPath,
    ['--conditions=@forge/source', '--import', 'tsx', join(import.meta.dirname, 'write-pglite-template.ts'), file],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  process.env.FORGE_PGLITE_TEMPLATE = file;
  return () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
}
