import { describe, expect, it } from 'vitest';
import { fakeProcessRunner } from './testing/fake-process-runner.js';
import { exitWithin, stopProcess } from './stop-process.js';
import { TailBuffer } from './tail-buffer.js';

describe('stopProcess', () => {
  it('climbs SIGINT → SIGTERM → SIGKILL for a process deaf to the first two, and stops once it has exited', async () => {
    const runner = fakeProcessRunner(() => ({
      stdout: [],
      hang: true,
      onSignal: { SIGINT: 'ignore', SIGTERM: 'ignore' },
    }));
    const proc = await runner.spawn('deaf', []);
    const exit = await stopProcess(proc, { sigintGraceMs: 5, sigtermGraceMs: 5 });
    expect(runner.calls[0]!.signals).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    expect(exit.signal).toBe('SIGKILL');
  });

  it('resolves undefined when a process does not exit in time', async () => {
    const runner = fakeProcessRunner(() => ({ stdout: [], hang: true }));
    const proc = await runner.spawn('slow', []);
    expect(await exitWithin(proc, 5)).toBeUndefined();
    proc.kill('SIGKILL');
  });
});

describe('TailBuffer', () => {
  it('keeps the last bytes, without a broken character at the cut', () => {
    const tail = new TailBuffer(8);
    const enc = new TextEncoder();
    tail.push(enc.encode('hello '));
    tail.push(enc.encode('wörld, again'));
    expect(tail.text()).toBe('d, again');
    const cut = new TailBuffer(3);
    cut.push(enc.encode('aé'));
    cut.push(enc.encode('b'));
    expect(cut.text()).toBe('éb');
  });
});
