import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** The login shell the account database gives `uid` (default this process's user); `/bin/sh` when it says none. */
export function loginShellOf(uid: number | undefined = process.getuid?.()): string {
  const key = String(uid ?? '');
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .find(Boolean);
  } catch {
    try {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.split(':')[2] === key);
    } catch {
      line = undefined;
    }
  }
  const shell = line?.split(':')[6]?.trim();
  // System accounts often say nologin/false: a terminal into them would close at once.
  if (shell && !/\/(nologin|false)$/.test(shell) && existsSync(shell)) return shell;
  return '/bin/sh';
}
