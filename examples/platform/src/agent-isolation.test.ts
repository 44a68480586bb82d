import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userSwitchProblem } from '@forge/core';
import { afterAll, describe, expect, it } from 'vitest';
import { exposureWarning, prepareAgentUser } from './agent-isolation.js';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-isolation-'));
// Passable, as a data dir's parents must be for the agent user.
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secretFile = (name: string, text: string, mode = 0o600) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
};
const agent = { name: 'forge-agent', uid: 4242, gid: 4242, home: '/nonexistent' };

describe('exposureWarning', () => {
  it('says that agents running as the platform user can read everything it can, and how to fix it', () => {
    const warning = exposureWarning(loadConfig([], { FORGE_DATA_DIR: '/srv/forge' }), undefined);
    expect(warning).toMatch(/^the platform's secrets are exposed: local agents run as the platform's own user/);
    expect(warning).toContain('/srv/forge');
    expect(warning).toContain('set FORGE_AGENT_USER');
    expect(warning).not.toContain('\n');
  });

  it('names secrets passed in the environment, with the _FILE setting to use instead', () => {
    const config = loadConfig([], { FORGE_API_KEYS: 'u:key-one-1', FORGE_HUB_SECRET: 'x'.repeat(40) });
    const warning = exposureWarning(config, agent);
    expect(warning).toContain('secrets in the environment (FORGE_API_KEYS, FORGE_HUB_SECRET)');
    expect(warning).toContain('the shell, npx or pnpm that started it');
    expect(warning).toContain('FORGE_API_KEYS_FILE, FORGE_HUB_SECRET_FILE (mode 0600');
    expect(warning).not.toContain('FORGE_AGENT_USER');
    // Never the values.
    expect(warning).not.toContain('key-one-1');
  });

  it('names a password on the command line and secret files other users may read', () => {
    const loose = secretFile('hub-loose', 'h'.repeat(40), 0o644);
    const config = loadConfig(['--database-url', 'postgres://u:pw@db/x'], { FORGE_HUB_SECRET_FILE: loose });
    const warning = exposureWarning(config, agent);
    expect(warning).toContain('--database-url carries a password on the command line');
    expect(warning).toContain(`FORGE_HUB_SECRET_FILE (${loose}, mode 644)`);
    expect(warning).toContain(`chmod 600 ${loose}`);
    expect(warning).not.toContain('pw@');
  });

  it('says nothing when agents run as another user and the secrets are in 0600 files', () => {
    const config = loadConfig([], {
      FORGE_HUB_SECRET_FILE: secretFile('hub', 'h'.repeat(40)),
      FORGE_API_KEYS_FILE: secretFile('keys', '[{"user":"a","key":"a-key-123456"}]'),
    });
    expect(exposureWarning(config, agent)).toBeUndefined();
    // Agents in pods cannot see the platform's processes; the environment still can.
    expect(exposureWarning(loadConfig([], { FORGE_BACKEND: 'k8s' }), undefined)).toBeUndefined();
  });
});

describe('prepareAgentUser', () => {
  it('is nothing to do without FORGE_AGENT_USER', async () => {
    expect(await prepareAgentUser(loadConfig([], {}))).toBeUndefined();
  });

  const cannot = userSwitchProblem();
  it.skipIf(cannot === undefined)('refuses to start when the platform cannot switch users', async () => {
    await expect(prepareAgentUser(loadConfig([], { FORGE_AGENT_USER: 'nobody' }))).rejects.toThrow(
      /FORGE_AGENT_USER: "nobody" is set, but the platform cannot start processes as another user/,
    );
  });

  if (cannot) console.warn(`\n*** SKIPPING prepareAgentUser tests that need root: ${cannot} ***\n`);
  describe.skipIf(cannot !== undefined)('as root', () => {
    const name = 'forge-agent-test';
    const ensureUser = () => {
      try {
        execFileSync('id', [name], { stdio: 'ignore' });
      } catch {
        execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
      }
    };
    it('refuses an unknown user, and root', async () => {
      const config = (user: string) => loadConfig([], { FORGE_AGENT_USER: user, FORGE_DATA_DIR: join(dir, 'd') });
      await expect(prepareAgentUser(config('forge-no-such-user'))).rejects.toThrow(/no user "forge-no-such-user"/);
      await expect(prepareAgentUser(config('root'))).rejects.toThrow(/is root/);
    });

    it('makes the data dir passable, and a HOME the user owns when it has none', async () => {
      ensureUser();
      const dataDir = join(dir, 'data');
      const user = await prepareAgentUser(loadConfig([], { FORGE_AGENT_USER: name, FORGE_DATA_DIR: dataDir }));
      expect(user).toMatchObject({ name, home: join(dataDir, 'agent-home') });
      expect(statSync(dataDir).mode & 0o777).toBe(0o711);
      expect(statSync(user!.home)).toMatchObject({ uid: user!.uid, gid: user!.gid });
      expect(statSync(user!.home).mode & 0o777).toBe(0o700);
    });

    it('refuses a data dir the user cannot reach', async () => {
      ensureUser();
      const closed = join(dir, 'closed');
      mkdirSync(closed, { mode: 0o700 });
      await expect(
        prepareAgentUser(loadConfig([], { FORGE_AGENT_USER: name, FORGE_DATA_DIR: join(closed, 'data') })),
      ).rejects.toThrow(new RegExp(`cannot reach the data dir .*: ${closed} is not traversable`));
    });
  });
});
