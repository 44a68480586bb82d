import { statSync } from 'node:fs';
import { CoreErrorCode } from './error-codes.js';
import { ForgeError } from './errors.js';

/**
 * Why a process cannot start in `cwd`, or undefined when it can. Node reports a missing working directory as
 * ENOENT, exactly like a missing binary; a runner asks this when a spawn fails with ENOENT, so the error says
 * which of the two it was. Synchronous: it runs once, on a failure path.
 */
export function cwdProblem(cwd: string, command: string): ForgeError | undefined {
  let reason: string;
  try {
    if (statSync(cwd).isDirectory()) return undefined;
    reason = 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read' : (error as Error).message;
  }
  return new ForgeError(
    CoreErrorCode.CWD_NOT_FOUND,
    `Could not start "${command}": its working directory ${cwd} ${reason}`,
    'not_found',
    { details: { cwd, command } },
  );
}
