import { afterEach, describe, expect, it, vi } from 'vitest';
import { type PausableSource, pacedReadable } from './paced-readable.js';

/** A source the test pushes into, recording pauses and resumes. */
function fakeSource() {
  let data: (chunk: Uint8Array) => void = () => {};
  let end: (error?: Error) => void = () => {};
  const calls: string[] = [];
  const source: PausableSource = {
    onData: (l) => (data = l),
    onEnd: (l) => (end = l),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
  };
  return { source, calls, push: (c: Uint8Array) => data(c), end: (e?: Error) => end(e) };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

afterEach(() => {
  vi.useRealTimers();
});

describe('pacedReadable', () => {
  it('a BYOB reader gets the output in its own buffer, as much as came, up to its size', async () => {
    const s = fakeSource();
    const reader = pacedReadable(s.source).getReader({ mode: 'byob' });
    const first = reader.read(new Uint8Array(4));
    s.push(new TextEncoder().encode('abcdef'));
    const a = await first;
    expect(new TextDecoder().decode(a.value)).toBe('abcd');
    // The view it gets back is over the buffer it gave (moved, not copied), the channel byte's room included.
    const room = new Uint8Array(new ArrayBuffer(11), 1, 10);
    const b = await reader.read(room);
    expect(new TextDecoder().decode(b.value)).toBe('ef');
    expect(b.value!.byteOffset).toBe(1);
    expect(b.value!.buffer.byteLength).toBe(11);
    const last = reader.read(new Uint8Array(10));
    s.end();
    expect((await last).done).toBe(true);
  });

  it('copies what it keeps: a source may reuse its chunk once the listener returns', async () => {
    const s = fakeSource();
    const stream = pacedReadable(s.source);
    const chunk = new TextEncoder().encode('hello');
    s.push(chunk);
    chunk.fill(0);
    s.push(new TextEncoder().encode(' world'));
    s.end();
    let text = '';
    for await (const c of stream as unknown as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(c);
    expect(text).toBe('hello world');
  });

  it('a default reader gets what arrived while it was busy as one chunk, and the error after the data', async () => {
    const s = fakeSource();
    const reader = pacedReadable(s.source).getReader();
    s.push(bytes(3));
    s.push(bytes(5));
    expect((await reader.read()).value!.byteLength).toBe(8);
    s.push(bytes(2));
    s.end(new Error('gone'));
    expect((await reader.read()).value!.byteLength).toBe(2);
    await expect(reader.read()).rejects.toThrow('gone');
  });

  it('pauses the source once highWaterMark bytes wait unread, resumes once they are read', async () => {
    const s = fakeSource();
    const reader = pacedReadable(s.source, 10).getReader();
    s.push(bytes(6));
    expect(s.calls).toEqual([]);
    s.push(bytes(6));
    expect(s.calls).toEqual(['pause']);
    await reader.read();
    expect(s.calls).toEqual(['pause', 'resume']);
  });

  it('trickling output goes to a waiting reader chunk by chunk', async () => {
    const s = fakeSource();
    const reader = pacedReadable(s.source).getReader({ mode: 'byob' });
    for (let i = 0; i < 5; i++) {
      const read = reader.read(new Uint8Array(256 * 1024));
      s.push(bytes(100));
      expect((await read).value!.byteLength).toBe(100);
    }
  });

  it('streaming output: a waiting read takes 64 KiB at once, not each write of the producer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = fakeSource();
    const reader = pacedReadable(s.source, 1024 * 1024).getReader({ mode: 'byob' });
    // 64 KiB in one go: the output streams from here on.
    s.push(bytes(64 * 1024));
    expect((await reader.read(new Uint8Array(256 * 1024))).value!.byteLength).toBe(64 * 1024);
    // No read waits: the source is left unread (its kernel buffer holds the writes) until one does.
    expect(s.calls).toEqual(['pause']);
    const read = reader.read(new Uint8Array(256 * 1024));
    await Promise.resolve();
    expect(s.calls).toEqual(['pause', 'resume']);
    let settled = false;
    void read.then(() => (settled = true));
    for (let i = 0; i < 7; i++) s.push(bytes(8 * 1024));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    s.push(bytes(8 * 1024));
    expect((await read).value!.byteLength).toBe(64 * 1024);
  });

  it('streaming output: what came within 1 ms goes to the waiting read when no more comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = fakeSource();
    const reader = pacedReadable(s.source, 1024 * 1024).getReader({ mode: 'byob' });
    s.push(bytes(64 * 1024));
    await reader.read(new Uint8Array(256 * 1024));
    const read = reader.read(new Uint8Array(256 * 1024));
    s.push(bytes(10));
    vi.advanceTimersByTime(1);
    expect((await read).value!.byteLength).toBe(10);
  });

  it('cancel resumes a paused source (its output is dropped, the process is not left blocked)', async () => {
    const s = fakeSource();
    const stream = pacedReadable(s.source, 4);
    s.push(bytes(8));
    expect(s.calls).toEqual(['pause']);
    await stream.cancel();
    expect(s.calls).toEqual(['pause', 'resume']);
  });
});
