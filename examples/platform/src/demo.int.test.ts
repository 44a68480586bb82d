import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pgliteTemplateEnv } from '@forge/store/testing';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** What a newcomer's first command does: `pnpm demo --once` on a machine without model credentials. */
describe('the demo (offline, --once)', () => {
  it('runs the real CLI against the offline stand-in, delivers verified webhooks, and exits 0', async () => {
    // No spare CLI processes (FORGE_PREWARM_MAX): the demo exits after one run and never uses one. Its store
    // unpacks this process's initialised PGlite database instead of running initdb (~6.5 s of CPU).
    const env: NodeJS.ProcessEnv = {
      FORGE_PREWARM_MAX: '0',
      ...process.env,
      ...(await pgliteTemplateEnv()),
      FORGE_DEMO_ONCE: '1',
    };
    delete env.ANTHROPIC_API_KEY;
    delete env.FORGE_PORT;
    delete env.PORT;
    const child = spawn(
      process.execPath,
      ['--conditions=@forge/source', '--import', 'tsx', 'examples/platform/src/demo.ts'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    } finally {
      // Never leave the demo (and its CLI) running if the wait is interrupted.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(out, out).toContain('OFFLINE MODE');
    expect(code, out).toBe(0);
    expect(out).toMatch(/POST \/api\/v1\/agents → 201/);
    expect(out).toMatch(/webhook ✓ signature verified\s+seq\s+1\s/);
    expect(out).toMatch(/tool\.call\s+Bash \{"command":"ls"/);
    expect(out).toMatch(/hello\.txt/);
    expect(out).toMatch(/agent\.complete run\.completed\s+completed .*\[final\]/);
    expect(out).toContain('Run completed');
  }, 90_000);
});
