import { describe, expect, it } from 'vitest';
import { ProcessSpawnError } from '../errors.js';
import { fakeProcessRunner } from './fake-process-runner.js';

async function text(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const d = new TextDecoder();
  let s = '';
  for await (const c of stream) s += d.decode(c, { stream: true });
  return s;
}

describe('fakeProcessRunner', () => {
  it('plays stdout and stderr and exits with the scripted code, recording the call', async () => {
    const runner = fakeProcessRunner({ stdout: ['a', { delayMs: 2 }, 'b'], stderr: ['oops'], exitCode: 2 });
    const p = await runner.spawn('claude', ['-p'], { input: 'hello' });
    expect(await text(p.stdout)).toBe('ab');
    expect(await text(p.stderr)).toBe('oops');
    expect(await p.exited).toEqual({ code: 2, signal: null });
    expect(runner.calls[0]).toMatchObject({ command: 'claude', args: ['-p'], stdin: 'hello', stdinClosed: true });
  });

  it('reacts to signals as scripted, and ignores when told to', async () => {
    const runner = fakeProcessRunner({
      stdout: ['start\n'],
      hang: true,
      onSignal: { SIGINT: 'ignore', SIGTERM: { stdout: ['bye\n'], exitCode: 143 } },
    });
    const p = await runner.spawn('x', []);
    const out = text(p.stdout);
    p.kill('SIGINT');
    p.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 143, signal: null });
    expect(await out).toBe('start\nbye\n');
    expect(runner.calls[0]!.signals).toEqual(['SIGINT', 'SIGTERM']);
    expect(p.kill('SIGKILL')).toBe(false);
  });

  it('fails to spawn like a missing binary', async () => {
    await expect(fakeProcessRunner({ spawnError: 'not found' }).spawn('x', [])).rejects.toBeInstanceOf(
      ProcessSpawnError,
    );
  });
});
