import { spawnSync } from 'node:child_process';
import { chown, mkdir, stat, chmod } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { lookupOsUser, userSwitchProblem, ValidationError, type OsUser } from '@forge/core';
import type { PlatformConfig } from './config.js';
import { looseSecretFiles } from './secret-settings.js';

function bad(message: string): never {
  throw new ValidationError('INVALID_CONFIG', `FORGE_AGENT_USER: ${message}`, [
    { path: 'FORGE_AGENT_USER', code: 'INVALID_CONFIG', message },
  ]);
}

/** Whether `user` may pass through `dir` (the execute bit that applies to it). */
async function traversable(dir: string, user: OsUser): Promise<boolean> {
  const s = await stat(dir);
  if (s.uid === user.uid) return (s.mode & 0o100) !== 0;
  if (s.gid === user.gid) return (s.mode & 0o010) !== 0;
  return (s.mode & 0o001) !== 0;
}

/**
 * FORGE_AGENT_USER, made ready: the account, checked to be neither root nor the platform's own
 * user; the data dir traversable (0711, not listable) so the user reaches the workspaces handed to
 * it; and a HOME it owns (its own when that exists, else `<dataDir>/agent-home`). Undefined when
 * none is configured. When the platform cannot start processes as another user, it refuses to
 * start: agents running as the platform's user instead would read its secrets, against what the
 * operator asked for.
 */
export async function prepareAgentUser(config: PlatformConfig): Promise<Required<OsUser> | undefined> {
  const name = config.agentUser;
  if (!name) return undefined;
  const problem = userSwitchProblem();
  if (problem)
    bad(
      `"${name}" is set, but the platform cannot start processes as another user: ${problem}. Unset FORGE_AGENT_USER only if agents may read the platform's secrets.`,
    );
  let user: OsUser;
  try {
    user = lookupOsUser(name);
  } catch (error) {
    bad((error as Error).message);
  }
  if (user.uid === 0) bad(`"${name}" is root; name an unprivileged user`);
  if (user.uid === process.geteuid?.()) bad(`"${name}" is the platform's own user; name another, unprivileged one`);

  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  await chmod(dataDir, 0o711);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if (!(await traversable(dir, user)))
      bad(
        `"${name}" cannot reach the data dir ${dataDir}: ${dir} is not traversable by it (chmod o+x, or another FORGE_DATA_DIR)`,
      );
    if (dir === dirname(dir)) break;
  }
  // What the checks above cannot see (a user namespace that does not map the uid, a seccomp filter):
  // one process started as the user, going to the data dir, before any agent's is.
  const tried = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dataDir], {
    uid: user.uid,
    gid: user.gid,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10_000,
  });
  if (tried.error || tried.status !== 0)
    bad(
      `cannot start a process as "${name}" in the data dir: ${tried.error?.message ?? tried.stderr.toString().trim()}`,
    );
  let home = user.home;
  const own = await stat(home).then(
    (s) => s.isDirectory() && s.uid === user.uid,
    () => false,
  );
  if (!own) {
    home = join(dataDir, 'agent-home');
    await mkdir(home, { recursive: true, mode: 0o700 });
    await chown(home, user.uid, user.gid);
  }
  return { ...user, home };
}

/**
 * One line naming how the platform's secrets are exposed and how to fix it, or undefined when they
 * are not: agents running as the platform's own user (they can read its /proc/<pid>/environ, its
 * memory, its files), secrets passed as environment variables (readable in /proc/<pid>/environ of
 * this process and of the shell, npx or pnpm that started it, whatever this process deletes from
 * `process.env`), a password on the command line (readable by every user), secret files that
 * other users may read.
 */
export function exposureWarning(config: PlatformConfig, agentUser: OsUser | undefined): string | undefined {
  const exposed: string[] = [];
  const fixes: string[] = [];
  const me = safeUserName();
  if (config.backend === 'local' && !agentUser) {
    const files = config.secretSources.filter((s) => s.from === 'file').map((s) => s.path);
    exposed.push(
      `local agents run as the platform's own user (${me}), so they can read /proc/<pid>/environ and memory of the platform and its launchers, and its files (${[...files, config.dataDir].join(', ')})`,
    );
    fixes.push('set FORGE_AGENT_USER to an unprivileged user of their own (the platform needs root or CAP_SETUID)');
  }
  const inEnv = config.secretSources.filter((s) => s.from === 'env').map((s) => s.name);
  if (inEnv.length > 0) {
    exposed.push(
      `secrets in the environment (${inEnv.join(', ')}) stay readable in /proc/<pid>/environ of this process and of the shell, npx or pnpm that started it, by any process of user ${me}`,
    );
    fixes.push(`pass them as files instead: ${inEnv.map((n) => `${n}_FILE`).join(', ')} (mode 0600, owned by ${me})`);
  }
  for (const s of config.secretSources.filter((x) => x.from === 'argv')) {
    exposed.push(
      `${s.setting} carries a password on the command line, which every user can read (ps, /proc/<pid>/cmdline)`,
    );
    fixes.push(`use ${s.name}_FILE`);
  }
  const loose = looseSecretFiles(config.secretSources);
  if (loose.length > 0) {
    exposed.push(`secret files other users may read: ${loose.join(', ')}`);
    fixes.push(`chmod 600 ${[...new Set(loose.map((l) => /\(([^,]+),/.exec(l)?.[1]))].join(' ')}`);
  }
  if (exposed.length === 0) return undefined;
  return `the platform's secrets are exposed: ${exposed.join('; ')}. To fix: ${fixes.join('; ')}. See "Security notes" in the README.`;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.geteuid?.()}`;
  }
}
