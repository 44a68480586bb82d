import { describe, expect, it } from 'vitest';
import { RecentTails } from './recent-tails.js';
import { RunTail, TAIL_CHARS } from './run-tail.js';

const ev = (seq: number, type = 'text.delta', chars = 10) => ({ seq, type, time: seq, body: 'x'.repeat(chars) });

describe('RunTail', () => {
  it('holds the committed events after where it starts; a reader from before that gets nothing (reads the journal)', () => {
    const tail = new RunTail(3);
    for (const seq of [4, 5, 6]) tail.add(ev(seq));
    expect(tail.since(3)?.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(tail.since(5)?.map((e) => e.seq)).toEqual([6]);
    expect(tail.since(6)).toEqual([]);
    expect(tail.since(2)).toBeUndefined();
    expect(tail.ended).toBe(false);
    tail.add(ev(7, 'run.completed'));
    expect(tail.ended).toBe(true);
  });

  it('drops its oldest events past TAIL_CHARS, and says where it starts now', () => {
    const tail = new RunTail(0);
    const size = TAIL_CHARS / 4;
    for (let seq = 1; seq <= 10; seq++) tail.add(ev(seq, 'text.delta', size));
    expect(tail.after).toBe(6);
    expect(tail.since(0)).toBeUndefined();
    expect(tail.since(6)?.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    // One event bigger than the budget is still kept whole, alone.
    tail.add(ev(11, 'message', TAIL_CHARS * 2));
    expect(tail.since(10)?.map((e) => e.seq)).toEqual([11]);
    expect(tail.since(9)).toBeUndefined();
  });
});

describe('RecentTails', () => {
  it('keeps finished runs for a while and a bounded number of them', () => {
    let now = 0;
    const recent = new RecentTails(() => now);
    const tail = new RunTail(0);
    tail.add(ev(1));
    tail.add(ev(2, 'run.completed'));
    recent.keep('req_a', tail);
    expect(recent.since('req_a', 0)?.map((e) => e.type)).toEqual(['text.delta', 'run.completed']);
    expect(recent.since('req_a', 2)).toEqual([]);
    expect(recent.since('req_b', 0)).toBeUndefined();
    now += 30_001;
    expect(recent.since('req_a', 0)).toBeUndefined();
    for (let i = 0; i < 300; i++) recent.keep(`req_${i}`, tail);
    expect(recent.since('req_0', 0)).toBeUndefined();
    expect(recent.since('req_299', 0)).toBeDefined();
  });
});
