import { describe, expect, it } from 'vitest';
import { fakeProcessRunner } from './testing/fake-process-runner.js';
import { probedAvailability, probeVersion } from './version-probe.js';

const pattern = /^\s*v?(\d+\.\d+\.\d+)/;

describe('probeVersion', () => {
  it('reads the version from stdout, with --version and an empty stdin', async () => {
    const runner = fakeProcessRunner({ stdout: ['1.2.3 (Some CLI)\n'] });
    const probe = await probeVersion(runner, 'cli', { timeoutMs: 1_000, pattern, cwd: '/tmp', passEnv: ['X_*'] });
    expect(probe).toEqual({ version: '1.2.3' });
    expect(runner.calls[0]).toMatchObject({ command: 'cli', args: ['--version'], stdinClosed: true });
    expect(runner.calls[0]!.options).toMatchObject({ cwd: '/tmp', passEnv: ['X_*'] });
    expect(probedAvailability(probe)).toEqual({ version: '1.2.3', available: true });
  });

  it('a CLI that cannot start is unavailable, and says why', async () => {
    const runner = fakeProcessRunner({ spawnError: 'not found (is it installed and on PATH?)' });
    const probe = await probeVersion(runner, 'cli', { timeoutMs: 1_000, pattern });
    expect(probe).toMatchObject({ unavailable: true });
    expect(probedAvailability(probe)).toEqual({ available: false, unavailableReason: probe.error });
    expect(probe.error).toContain('not found');
  });

  it('output without a version: an error, still available; `noVersion` sees stdout and stderr', async () => {
    const runner = fakeProcessRunner({ stdout: ['hello\n'], stderr: ['Error: broken\n'] });
    expect(await probeVersion(runner, 'cli', { timeoutMs: 1_000, pattern })).toEqual({
      error: '"cli --version" printed no version: hello',
    });
    const said = await probeVersion(runner, 'cli', {
      timeoutMs: 1_000,
      pattern,
      noVersion: (out, err) => ({ error: `${out.trim()} / ${err.trim()}`, unavailable: true }),
    });
    expect(said).toEqual({ error: 'hello / Error: broken', unavailable: true });
  });

  it('a CLI that does not answer in time is stopped, and the probe says so', async () => {
    const runner = fakeProcessRunner({ hang: true });
    const probe = await probeVersion(runner, 'cli', { timeoutMs: 20, pattern });
    expect(probe.error).toContain('no answer within 20 ms');
    expect(runner.calls[0]!.exit).toBeDefined();
  });
});
