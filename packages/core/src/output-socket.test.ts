import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutputSocket } from './output-socket.js';

const base = mkdtempSync(join(tmpdir(), 'forge-out-test-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('openOutputSocket', () => {
  it("carries a child's output, read into one reused buffer, and leaves no socket to connect to", async () => {
    const out = await openOutputSocket(64 * 1024, base);
    expect(out).toBeDefined();
    // The listening socket's directory is gone once the pair is connected: nothing left for another process.
    expect(readdirSync(base)).toEqual([]);
    const buffers = new Set<ArrayBufferLike>();
    let total = 0;
    let text = '';
    out!.source.onData((chunk) => {
      buffers.add(chunk.buffer);
      total += chunk.byteLength;
      if (text.length < 5) text += Buffer.from(chunk.subarray(0, 5)).toString();
    });
    const ended = new Promise<void>((resolve) => out!.source.onEnd(() => resolve()));
    const child = spawn('sh', ['-c', 'printf hello; head -c 1000000 /dev/zero'], {
      stdio: ['ignore', out!.childEnd, 'inherit'],
    });
    out!.childEnd.destroy();
    await ended;
    await new Promise((r) => child.once('exit', r));
    expect(text.startsWith('hello')).toBe(true);
    expect(total).toBe(1_000_005);
    expect(buffers.size).toBe(1);
  });

  it('pause stops reading: the child blocks on its write until resumed', async () => {
    const out = (await openOutputSocket(64 * 1024))!;
    let total = 0;
    out.source.onData((chunk) => {
      total += chunk.byteLength;
    });
    out.source.pause();
    const child = spawn('head', ['-c', String(8 * 1024 * 1024), '/dev/zero'], {
      stdio: ['ignore', out.childEnd, 'inherit'],
    });
    out.childEnd.destroy();
    let exited = false;
    child.once('exit', () => (exited = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(exited).toBe(false);
    expect(total).toBe(0);
    const ended = new Promise<void>((resolve) => out.source.onEnd(() => resolve()));
    out.source.resume();
    await ended;
    expect(total).toBe(8 * 1024 * 1024);
  });
});
