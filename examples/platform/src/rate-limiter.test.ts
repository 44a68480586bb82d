import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows `limit` requests per window per key, then says when to retry', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 60_000, { now: () => now });
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('k');
    expect(refused).toMatchObject({
      allowed: false,
      limit: 3,
      remaining: 0,
      retryAfter: 60,
      resetAt: Math.ceil(1_060_000 / 1000),
    });
    expect(limiter.take('other').allowed).toBe(true);
    now += 45_500;
    expect(limiter.take('k').retryAfter).toBe(15);
    now += 14_500;
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 2 });
  });
});
