import { systemClock, type Clock } from '@forge/core';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets (X-RateLimit-Reset). */
  resetAt: number;
  /** Seconds to wait (Retry-After), at least 1 when refused. */
  retryAfter: number;
}

/**
 * A fixed one-minute window per key. Memory is bounded by the number of configured keys: windows
 * are kept only for keys that authenticated, and stale ones are dropped as new windows open.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  take(key: string): RateDecision {
    const now = this.clock.now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.#windows.size > 10_000) this.#sweep(now);
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    const resetMs = w.start + this.windowMs;
    const allowed = w.count < this.limit;
    if (allowed) w.count++;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - w.count),
      resetAt: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - now) / 1000)),
    };
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.windowMs) this.#windows.delete(k);
  }
}
