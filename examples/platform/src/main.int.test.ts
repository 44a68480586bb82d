import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));

/** `pnpm start`: configured from the environment, serves, and stops cleanly on SIGTERM. */
describe('the platform process (src/main.ts)', () => {
  it('starts from env and flags, answers with the configured key, and exits 0 on SIGTERM', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-main-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
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
});
