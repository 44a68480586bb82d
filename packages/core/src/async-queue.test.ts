import { describe, expect, it } from 'vitest';
import { AsyncQueue } from './async-queue.js';

const take = async <T>(q: AsyncQueue<T>) => {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
};

describe('AsyncQueue', () => {
  it('keeps order, merges into the last queued item, and lets end() drain while close() discards', async () => {
    const q = new AsyncQueue<number[]>({ highWaterMark: 10 });
    q.push([1]);
    q.push([2], (last) => (last.push(2), true));
    q.push([3], () => false);
    q.end();
    expect(q.push([4])).toBe(false);
    expect(await take(q)).toEqual([[1, 2], [3]]);

    const c = new AsyncQueue<number>();
    c.push(1);
    c.close();
    expect(await take(c)).toEqual([]);
  });

  it('asks producers to wait past the high-water mark and releases them as the reader catches up (or on close)', async () => {
    const q = new AsyncQueue<number>({ highWaterMark: 2 });
    const it = q[Symbol.asyncIterator]();
    expect(q.push(1)).toBe(true);
    expect(q.push(2)).toBe(false);
    let released = false;
    const waiting = q.drained().then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    await it.next();
    await waiting;
    expect(released).toBe(true);

    const full = new AsyncQueue<number>({ highWaterMark: 1 });
    full[Symbol.asyncIterator]();
    full.push(1);
    const held = full.drained();
    full.close();
    await held;
  });

  it('ends a pending reader at once when return() is called (Connect does, when a call ends)', async () => {
    const q = new AsyncQueue<number>();
    const it = q[Symbol.asyncIterator]();
    const pending = it.next();
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('does not stall a producer while nobody reads yet; maxBuffered bounds that, loudly', () => {
    const q = new AsyncQueue<number>({
      highWaterMark: 1,
      maxBuffered: 3,
      overflowError: (n) => new Error(`over ${n}`),
    });
    q.push(1);
    q.push(2);
    q.push(3);
    return Promise.all([expect(q.drained()).resolves.toBeUndefined(), expect(() => q.push(4)).toThrow('over 3')]);
  });

  it('keeps final items past the bound, and has one reader', async () => {
    const q = new AsyncQueue<number>({ maxBuffered: 1 });
    q.push(1);
    q.pushFinal(2);
    q.end();
    q.pushFinal(3);
    expect(await take(q)).toEqual([1, 2]);
    const once = new AsyncQueue<number>({ iteratedError: () => new Error('read once') });
    once[Symbol.asyncIterator]();
    expect(() => once[Symbol.asyncIterator]()).toThrow('read once');
  });
});
