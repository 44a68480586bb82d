import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  toolResultText,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { userSwitchProblem } from '@forge/core';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programArgs } from '../../../scripts/test-support/program-bundle.js';

/**
 * The attack of finding 2: an agent's Bash tool reads every process's /proc/<pid>/environ and
 * cmdline, and the files the secrets are kept in, looking for the platform's secrets. It runs the
 * real Claude Code CLI (against a fake Messages API that scripts the Bash call) under the real
 * platform (src/main.ts), started through a shell that stays its parent, as `npx`/`pnpm` do, so
 * a launcher carrying the secrets in its environment is there to be read too.
 *
 * The fix under test: agents run as FORGE_AGENT_USER, which cannot read /proc/<pid>/environ of
 * processes it does not own (the kernel's ptrace access check) nor the 0600 secret files.
 * Switching users needs root (or CAP_SETUID and friends); the test creates the OS user
 * `forge-agent-test` (a system user without a home) when it is missing, and leaves it.
 */
const AGENT_USER = 'forge-agent-test';
const pkg = fileURLToPath(new URL('..', import.meta.url));
const pg = await testDatabases();
const cannot = userSwitchProblem();
if (cannot) console.warn(`\n*** SKIPPING the agent-secrets attack test: ${cannot} (CI runs it as root) ***\n`);

function ensureUser(name: string): void {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
}

/** What the Bash tool runs: the finding's command, and then some. */
function probe(files: string[], dataDir: string): string {
  return [
    // Every line of every environment and command line it can read that looks like configuration.
    `for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < "$f"; done 2>/dev/null | grep -a -i -e FORGE_ -e postgres -e secret -e key -e ANTHROPIC_BASE_URL`,
    ...files.map((f) => `cat ${f}`),
    // The platform's data dir: its store, its process ledger, the other agents' workspaces.
    `ls -a ${dataDir} ${dataDir}/.forge-db 2>&1 | sed 's/^/listed: /'`,
    'echo probe-done',
  ].join('; ');
}

const mainArgs = await programArgs(join(pkg, 'src/main.ts'));

/** Starts src/main.ts (bundled: programArgs) behind a shell that waits for it (a launcher with the same environment). */
function startPlatform(env: NodeJS.ProcessEnv) {
  const child = spawn('/bin/sh', ['-c', '"$@"; exit $?', 'launcher', process.execPath, ...mainArgs], {
    cwd: pkg,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`the platform exited early:\n${stdout}\n${stderr}`)));
  });
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // Gone already.
    }
    await exited;
  };
  return { child, url, exited, stop, output: () => `${stdout}\n${stderr}` };
}

/** Living processes started for this test's model server (as root, every environ is readable). */
async function processesOf(url: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    const state = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '')[0];
    if (environ.includes(`ANTHROPIC_BASE_URL=${url}\0`) && state !== 'Z' && state !== 'X')
      found.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')}`);
  }
  return found;
}

describe.skipIf(cannot !== undefined)("agents cannot read the platform's secrets (finding 2)", () => {
  let scratch: string;
  let api: FakeAnthropicApi;
  let files: string[] = [];
  let dataDir = '';

  beforeAll(async () => {
    ensureUser(AGENT_USER);
    scratch = await mkdtemp(join(tmpdir(), 'forge-agent-secrets-'));
    // Traversable, so that the 0600 mode of the files is what keeps the agent out (as documented).
    await chmod(scratch, 0o755);
    api = await startFakeAnthropicApi({
      respond: (req) =>
        req.hasToolResult
          ? { text: 'done' }
          : { toolUse: { name: 'Bash', input: { command: probe(files, dataDir), description: 'Look around' } } },
    });
  });
  afterAll(async () => {
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await pg.dropAll();
  });

  /** Starts the platform with `env`, runs the probe in an agent of bob's, and returns what the Bash tool printed. */
  async function attack(
    name: string,
    env: Record<string, string>,
    key: string,
  ): Promise<{ seen: string; log: string }> {
    const data = join(scratch, name);
    dataDir = join(data, 'platform');
    await mkdir(join(data, 'home'), { recursive: true });
    const platform = startPlatform({
      ...process.env,
      ...env,
      ...fakeAnthropicEnv(api.url),
      HOME: join(data, 'home'),
      FORGE_AGENT_USER: AGENT_USER,
      FORGE_DATA_DIR: dataDir,
      FORGE_CLAUDE_BIN: claudeBinPath(),
      FORGE_DEFAULT_PROVIDER: 'claude-code',
    });
    try {
      const url = await platform.url;
      const auth = { authorization: `Bearer ${key}` };
      const created = await fetch(`${url}/api/v1/agents`, { method: 'POST', headers: auth, body: '{}' });
      expect(created.status, platform.output()).toBe(201);
      const { agent_id } = (await created.json()) as { agent_id: string };
      const before = api.requests.length;
      const sent = await fetch(`${url}/api/v1/agents/${agent_id}/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ content: 'look for secrets', allowed_tools: ['Bash'] }),
      });
      expect(sent.status).toBe(202);
      const { events_url } = (await sent.json()) as { events_url: string };
      const events = await (await fetch(`${url}${events_url}`, { headers: auth })).text();
      expect(events, platform.output()).toContain('run.completed');
      const answered = api.requests.slice(before).find((r) => r.hasToolResult);
      expect(answered, `the Bash tool never ran:\n${events}\n${platform.output()}`).toBeDefined();
      const seen = toolResultText(answered!.body);
      await platform.stop();
      // Run as another user, the CLI (kept warm between runs) and its tools still end with the platform,
      // which the launcher does not wait for: SIGTERM ended it at once.
      let left = await processesOf(api.url);
      for (let i = 0; i < 300 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await processesOf(api.url);
      }
      expect(left).toEqual([]);
      return { seen, log: platform.output() };
    } finally {
      if (platform.child.exitCode === null) await platform.stop();
    }
  }

  /** The secret values an attacker wants: each user's key, the hub secret, the database URL and its password. */
  function expectNoneOf(secrets: string[], seen: string): void {
    for (const secret of secrets) expect(seen).not.toContain(secret);
  }

  /** The data dir may be passed (to reach a workspace) but not listed; the store in it not even passed. */
  function expectDataDirClosed(seen: string): void {
    expect(seen).toMatch(/listed: ls: cannot open directory .*: Permission denied/);
    expect(seen).not.toMatch(/listed: (processes|agent-home|bob|PG_VERSION)$/m);
  }

  const db = async () => {
    // A password the server does not ask for (trust), so the URL works and carries one to find.
    const url = new URL(await pg.create());
    url.password = `db-password-${randomBytes(8).toString('hex')}`;
    return { url: url.toString(), password: url.password };
  };
  const key = (user: string) => ({ user, key: `${user}-key-${randomBytes(8).toString('hex')}` });
  const hubSecret = () => `hub-secret-${randomBytes(16).toString('hex')}`;

  it('secrets in the environment: the platform and its launcher keep them, the agent reads neither', async () => {
    const keys = [key('alice'), key('bob')];
    const database = pg.url ? await db() : undefined;
    const secrets: Record<string, string> = {
      FORGE_API_KEYS: keys.map((k) => `${k.user}:${k.key}`).join(','),
      FORGE_HUB_SECRET: hubSecret(),
      ...(database ? { FORGE_DATABASE_URL: database.url } : {}),
    };
    files = [];
    const { seen, log } = await attack('env', { ...secrets, FORGE_HUB_PORT: '0' }, keys[1]!.key);
    // The probe ran and could read what is the agent's own: its CLI's environment.
    expect(seen).toContain('probe-done');
    expectDataDirClosed(seen);
    expect(seen).toContain(`ANTHROPIC_BASE_URL=${api.url}`);
    expectNoneOf(
      [...keys.map((k) => k.key), secrets.FORGE_HUB_SECRET!, ...(database ? [database.url, database.password] : [])],
      seen,
    );
    // Secrets in the environment are still exposed to the platform's own user: it says so.
    expect(log).toMatch(/secrets.*environment.*FORGE_API_KEYS/i);
  }, 120_000);

  it('secrets in 0600 files: the agent cannot read the files', async () => {
    const dir = join(scratch, 'secrets');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const keys = [key('alice'), key('bob')];
    const database = pg.url ? await db() : undefined;
    const hub = hubSecret();
    const values: Record<string, string> = {
      FORGE_API_KEYS_FILE: JSON.stringify(keys),
      FORGE_HUB_SECRET_FILE: `${hub}\n`,
      ...(database ? { FORGE_DATABASE_URL_FILE: `${database.url}\n` } : {}),
    };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      const file = join(dir, name.toLowerCase());
      await writeFile(file, value, { mode: 0o600 });
      env[name] = file;
    }
    files = Object.values(env);
    const { seen, log } = await attack('files', { ...env, FORGE_HUB_PORT: '0' }, keys[1]!.key);
    expect(seen).toContain('probe-done');
    expectDataDirClosed(seen);
    expect(seen).toContain(`ANTHROPIC_BASE_URL=${api.url}`);
    expectNoneOf([...keys.map((k) => k.key), hub, ...(database ? [database.url, database.password] : [])], seen);
    expect(seen).toMatch(/Permission denied/);
    expect(log).not.toMatch(/exposed/i);
  }, 120_000);
});
