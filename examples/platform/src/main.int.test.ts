import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgliteTemplateEnv, testDatabases } from '@forge/store/testing';
import { describe, expect, it } from 'vitest';
import { programArgs } from '../../../scripts/test-support/program-bundle.js';
import { PLATFORM_NODE_FLAGS } from './test-support/platform-process.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const pg = await testDatabases();
// New data dirs unpack this process's initialised PGlite database instead of each running initdb (~6.5 s of CPU).
const template = await pgliteTemplateEnv();

const mainArgs = await programArgs(join(pkg, 'src/main.ts'));

/**
 * Starts `src/main.ts` (bundled: programArgs; the first test starts it as `pnpm start` does) with `env` and resolves
 * with its URL once it says where it listens. Without spare agent processes unless `env` asks for them: each is a
 * CLI start these tests never use (test-support/test-config.ts).
 */
function startMain(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...PLATFORM_NODE_FLAGS, ...mainArgs, '--port', '0'], {
    cwd: pkg,
    env: { FORGE_PREWARM_MAX: '0', ...template, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited early:\n${text}\n${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

/** `pnpm start`: configured from the environment, serves, and stops cleanly on SIGTERM. */
describe('the platform process (src/main.ts)', () => {
  it('starts from env and flags, answers with the configured key, and exits 0 on SIGTERM', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-main-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...template,
      FORGE_API_KEYS: 'alice:alice-main-key',
      FORGE_DATA_DIR: data,
      FORGE_DEFAULT_PROVIDER: 'scripted',
    };
    const child = spawn(
      process.execPath,
      ['--conditions=@forge/source', '--import', 'tsx', 'src/main.ts', '--port', '0'],
      { cwd: pkg, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (c: Buffer) => {
          text += c.toString();
          const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(`exited early:\n${text}\n${out}`)));
      });
      const auth = { authorization: 'Bearer alice-main-key' };
      const created = await fetch(`${url}/api/v1/agents`, { method: 'POST', headers: auth, body: '{}' });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ user_id: 'alice', provider: 'scripted' });
      expect((await fetch(`${url}/api/v1/agents`)).status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('"message":"authentication failed"');
      expect(out).not.toContain('alice-main-key');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);

  it("does not let an agent read the platform's secrets from its environment", async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-main-env-'));
    // A stand-in for the Claude Code CLI that answers with the environment it was given.
    const bin = join(data, 'print-env-claude');
    await writeFile(
      bin,
      `#!${process.execPath}
const env = JSON.stringify(process.env);
const out = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
out({ type: 'system', subtype: 'init', session_id: 's-env', model: 'm', tools: [], cwd: process.cwd() });
out({ type: 'result', subtype: 'success', is_error: false, result: env, session_id: 's-env', num_turns: 1 });
`,
    );
    await chmod(bin, 0o755);
    // The platform connects to FORGE_DATABASE_URL: a real server when there is one (.ci/run starts it).
    const secrets: Record<string, string> = {
      FORGE_API_KEYS: 'alice:alice-env-key,bob:bob-env-key',
      FORGE_HUB_SECRET: 'hub-secret-that-forges-enrolment-tokens-0123456789',
      ...(pg.url ? { FORGE_DATABASE_URL: await pg.create() } : {}),
    };
    const main = startMain({
      ...process.env,
      ...secrets,
      FORGE_HUB_PORT: '0',
      FORGE_DATA_DIR: data,
      FORGE_CLAUDE_BIN: bin,
      FORGE_DEFAULT_PROVIDER: 'claude-code',
      ANTHROPIC_API_KEY: 'the-model-key-the-agent-needs',
    });
    try {
      const url = await main.url;
      const auth = { authorization: 'Bearer bob-env-key' };
      const created = await fetch(`${url}/api/v1/agents`, { method: 'POST', headers: auth, body: '{}' });
      expect(created.status).toBe(201);
      const agent = (await created.json()) as { agent_id: string };
      const sent = await fetch(`${url}/api/v1/agents/${agent.agent_id}/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ content: 'run env' }),
      });
      expect(sent.status).toBe(202);
      const { events_url } = (await sent.json()) as { events_url: string };
      const events = await (await fetch(`${url}${events_url}`, { headers: auth })).text();
      expect(events).toContain('run.completed');
      expect(events).toContain('the-model-key-the-agent-needs');
      expect(events).toContain('PATH');
      for (const [name, value] of Object.entries(secrets)) {
        expect(events).not.toContain(name);
        for (const part of value.split(/[,:@/]/).filter((p) => p.length > 8)) expect(events).not.toContain(part);
      }
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      if (main.child.exitCode === null) main.child.kill('SIGKILL');
      await rm(data, { recursive: true, force: true });
      await pg.dropAll();
    }
  }, 60_000);

  it('ends, when it starts, the agent processes a previous instance killed with kill -9 left running', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-main-reap-'));
    const tool = `sleep 1021.${process.pid}`;
    const cli = `sleep 1022.${process.pid}`;
    /** Living processes whose arguments, joined by spaces, contain `text`. */
    const living = async (text: string) => {
      const found: number[] = [];
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
        const state = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '')[0];
        if (cmd.includes(text) && state !== 'Z' && state !== 'X') found.push(Number(pid));
      }
      return found;
    };
    // A stand-in for the CLI that starts a tool in a session of its own (as Claude Code's Bash tool does) and works on.
    const bin = join(data, 'busy-claude');
    await writeFile(
      bin,
      `#!/bin/sh
setsid ${tool} > /dev/null 2>&1 &
echo '{"type":"system","subtype":"init","session_id":"s-busy","model":"m","tools":[],"cwd":"/"}'
exec ${cli}
`,
    );
    await chmod(bin, 0o755);
    const env = {
      ...process.env,
      FORGE_API_KEYS: 'alice:alice-reap-key',
      FORGE_DATA_DIR: data,
      FORGE_CLAUDE_BIN: bin,
      FORGE_DEFAULT_PROVIDER: 'claude-code',
    };
    const first = startMain(env);
    let second: ReturnType<typeof startMain> | undefined;
    try {
      const url = await first.url;
      const auth = { authorization: 'Bearer alice-reap-key' };
      const created = await fetch(`${url}/api/v1/agents`, { method: 'POST', headers: auth, body: '{}' });
      const { agent_id } = (await created.json()) as { agent_id: string };
      const sent = await fetch(`${url}/api/v1/agents/${agent_id}/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ content: 'work' }),
      });
      expect(sent.status).toBe(202);
      for (let i = 0; i < 100 && ((await living(tool)).length === 0 || (await living(cli)).length === 0); i++)
        await new Promise((r) => setTimeout(r, 50));
      first.child.kill('SIGKILL');
      await first.exited;
      // What kill -9 leaves: the CLI and its tool, re-parented, running on.
      expect(await living(tool)).not.toEqual([]);
      expect(await living(cli)).not.toEqual([]);

      second = startMain(env);
      await second.url;
      expect(await living(tool)).toEqual([]);
      expect(await living(cli)).toEqual([]);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      for (const p of [first, second]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
      for (const pid of [...(await living(tool)), ...(await living(cli))]) process.kill(pid, 'SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to start when FORGE_AGENT_USER cannot be used, and says why', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-main-agent-user-'));
    try {
      const main = startMain({ ...process.env, FORGE_DATA_DIR: data, FORGE_AGENT_USER: 'forge-no-such-user' });
      const early = main.url.then(
        () => '',
        (error: Error) => error.message,
      );
      expect(await main.exited).toBe(1);
      // No key is handed out by a platform that does not serve.
      expect(await early).not.toContain('generated a key');
      // Root: the user is unknown; anyone else: the platform cannot switch users at all.
      expect(main.stderr()).toMatch(
        /forge platform: FORGE_AGENT_USER: (there is no user "forge-no-such-user"|"forge-no-such-user" is set, but the platform cannot start processes as another user)/,
      );
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);
});
