import { describe, expect, it } from 'vitest';
import { LoopTurns } from './loop-turns.js';

/** A statement that holds the thread, as PGlite's synchronous WebAssembly does. */
const busy = (ms: number) => async () => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('LoopTurns', () => {
  it('runs statements one at a time, in order', async () => {
    const turns = new LoopTurns();
    const order: number[] = [];
    let running = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        turns.next(async () => {
          expect(++running).toBe(1);
          await new Promise((r) => setTimeout(r, 0));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('lets the event loop turn while a long queue of statements runs', async () => {
    const turns = new LoopTurns();
    let done = 0;
    let doneWhenTheLoopTurned = -1;
    setImmediate(() => {
      doneWhenTheLoopTurned = done;
    });
    // 40 statements holding the thread 2 ms each: 80 ms, far past the 10 ms a queue may hold the loop.
    await Promise.all(Array.from({ length: 40 }, () => turns.next(busy(2)).then(() => done++)));
    expect(doneWhenTheLoopTurned).toBeGreaterThanOrEqual(0);
    expect(doneWhenTheLoopTurned).toBeLessThan(40);
  });

  it('goes on after a statement fails', async () => {
    const turns = new LoopTurns();
    await expect(turns.next(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(turns.next(async () => 'next')).resolves.toBe('next');
  });
});
