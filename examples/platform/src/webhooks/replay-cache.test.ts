import { describe, expect, it } from 'vitest';
import { createReplayCache } from './replay-cache.js';

describe('createReplayCache', () => {
  it('remembers an id until its ttl passes', () => {
    const cache = createReplayCache({ ttlSeconds: 10 });
    expect(cache.remember('a', 100)).toBe(true);
    expect(cache.remember('a', 105)).toBe(false);
    expect(cache.remember('a', 109)).toBe(false);
    expect(cache.remember('a', 110)).toBe(true);
  });

  it('stays within maxEntries, forgetting the oldest first', () => {
    const cache = createReplayCache({ maxEntries: 3, ttlSeconds: 1000 });
    for (const id of ['a', 'b', 'c', 'd']) expect(cache.remember(id, 1)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.remember('d', 2)).toBe(false);
    expect(cache.remember('a', 2)).toBe(true); // evicted, so no longer known
  });

  it('drops expired entries as time moves on', () => {
    const cache = createReplayCache({ ttlSeconds: 5 });
    for (let i = 0; i < 100; i++) cache.remember(`id${i}`, i);
    expect(cache.size).toBeLessThanOrEqual(6);
  });
});
