import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

async function takeAll<E, C>(box: Outbox<E, C>) {
  const out: Array<{ events: E[] } | { control: C }> = [];
  for await (const item of box.take()) out.push(item);
  return out;
}

describe('Outbox', () => {
  it('batches events that are ready, keeps order with control messages, and ends when told', async () => {
    const box = new Outbox<number, string>(100, 3);
    for (const n of [1, 2, 3, 4]) box.pushEvent(n);
    box.pushControl('pong');
    box.pushEvent(5);
    box.end();
    expect(await takeAll(box)).toEqual([{ events: [1, 2, 3] }, { events: [4] }, { control: 'pong' }, { events: [5] }]);
  });

  it('closes a batch once it passes maxBatchBytes, one event always fitting', async () => {
    const box = new Outbox<string, never>(100, 100, 10, (e) => e.length);
    for (const e of ['aaaaaaaaaaaa', 'bb', 'cc', 'dddddddd', 'e']) box.pushEvent(e);
    box.end();
    expect(await takeAll(box)).toEqual([
      { events: ['aaaaaaaaaaaa'] },
      { events: ['bb', 'cc', 'dddddddd'] },
      { events: ['e'] },
    ]);
  });

  it('asks the producer to wait above the high-water mark and lets it go on as the writer catches up', async () => {
    const box = new Outbox<number, never>(4, 2);
    const accepted = [1, 2, 3, 4].map((n) => box.pushEvent(n));
    expect(accepted).toEqual([true, true, true, false]);
    let released = false;
    const waiting = box.drained().then(() => (released = true));
    const reader = box.take();
    await reader.next();
    await reader.next();
    await waiting;
    expect(released).toBe(true);
  });

  it('discards everything and releases producers once closed', async () => {
    const box = new Outbox<number, never>(1, 1);
    box.pushEvent(1);
    const waiting = box.drained();
    box.close();
    await waiting;
    expect(box.pushEvent(2)).toBe(true);
    expect(await takeAll(box)).toEqual([]);
  });
});
