import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('Backoff', () => {
  it('grows exponentially to the cap, with full jitter below the ceiling', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999 });
    const delays = Array.from({ length: 7 }, () => b.next());
    expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
    const low = new Backoff({ initialMs: 100, random: () => 0 });
    expect([low.next(), low.next()]).toEqual([0, 0]);
  });

  it('starts over after reset and counts attempts to maxAttempts', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 80, maxAttempts: 2, random: () => 0.5 });
    expect(b.exhausted).toBe(false);
    b.next();
    b.next();
    expect(b.attempts).toBe(2);
    expect(b.exhausted).toBe(true);
    b.reset();
    expect(b.exhausted).toBe(false);
    expect(b.ceiling()).toBe(10);
  });

  it('refuses nonsense options with a typed error', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_BACKOFF' }));
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(
      expect.objectContaining({ code: 'INVALID_BACKOFF' }),
    );
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(expect.objectContaining({ code: 'INVALID_BACKOFF' }));
    expect(() => new Backoff({ maxAttempts: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_BACKOFF' }));
  });
});

describe('backoffDelay (full jitter)', () => {
  it('draws between 0 and an exponential ceiling capped at max', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000, top))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(40, 100, 1000, top)).toBe(999);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(200);
  });
});
