import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ValidationError } from './errors.js';

/** An OS account a local runner can start processes as (`LocalProcessRunnerOptions.user`). */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home directory as the account database has it (it may not exist: system users often have none). */
  home: string;
}

function passwdLine(name: string): string | undefined {
  // getent also asks NSS (LDAP, sssd…); /etc/passwd is the fallback where there is no getent.
  try {
    return execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .find(Boolean);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.split(':')[0] === name || (/^\d+$/.test(name) && line.split(':')[2] === name));
  } catch {
    return undefined;
  }
}

/** The account `name` (a user name or a numeric uid); ValidationError INVALID_OS_USER when there is none. */
export function lookupOsUser(name: string): OsUser {
  const bad = (message: string): never => {
    throw new ValidationError('INVALID_OS_USER', message, [{ path: 'user', code: 'INVALID_OS_USER', message }]);
  };
  if (process.platform === 'win32') bad('running processes as another user needs Linux or another POSIX system');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(name)) bad(`"${name}" is not a user name`);
  const fields = passwdLine(name)?.split(':');
  if (!fields || fields.length < 7)
    bad(`there is no user "${name}" on this machine (create one, e.g. useradd --system --no-create-home ${name})`);
  const [user, , uid, gid, , home] = fields!;
  return { name: user!, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
}

// Bits of /proc/self/status CapEff (linux/capability.h).
const CAPS = { CAP_CHOWN: 0, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7 } as const;

/**
 * Why this process cannot start processes as another user (and still end them and hand them their
 * directories), or undefined when it can: it needs to be root, or to hold CAP_SETUID, CAP_SETGID,
 * CAP_KILL and CAP_CHOWN.
 */
export function userSwitchProblem(): string | undefined {
  if (process.platform === 'win32' || typeof process.getuid !== 'function')
    return 'running processes as another user needs Linux or another POSIX system';
  let effective: bigint | undefined;
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (line) effective = BigInt(`0x${line}`);
  } catch {
    // No /proc (macOS, BSD): only root can.
  }
  if (effective === undefined)
    return process.geteuid?.() === 0 ? undefined : `this process runs as uid ${process.geteuid?.()}, not root`;
  const missing = Object.entries(CAPS)
    .filter(([, bit]) => (effective & (1n << BigInt(bit))) === 0n)
    .map(([name]) => name);
  if (missing.length === 0) return undefined;
  return `this process (uid ${process.geteuid?.()}) lacks ${missing.join(', ')}: run it as root or grant them (e.g. setcap, or systemd AmbientCapabilities)`;
}
