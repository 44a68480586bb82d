import { describe, expect, it } from 'vitest';
import { PeerRevision } from './peer-revision.js';

describe('PeerRevision', () => {
  const fakeClock = () => {
    let t = 0;
    return { clock: { now: () => t }, advance: (ms: number) => (t += ms) };
  };

  it('asks once for concurrent and later callers within the TTL, again after it', async () => {
    const { clock, advance } = fakeClock();
    let asked = 0;
    const revision = new PeerRevision(async () => ++asked, clock, 1_000);
    expect(await Promise.all([revision.get(), revision.get()])).toEqual([1, 1]);
    advance(1_000);
    expect(await revision.get()).toBe(1);
    advance(1);
    expect(await revision.get()).toBe(2);
    expect(asked).toBe(2);
  });

  it('answers undefined when the server cannot be asked, and does not keep that answer', async () => {
    const { clock } = fakeClock();
    let fail = true;
    const revision = new PeerRevision(async () => {
      if (fail) throw new Error('unreachable');
      return 1;
    }, clock);
    expect(await revision.get()).toBeUndefined();
    fail = false;
    expect(await revision.get()).toBe(1);
  });
});
