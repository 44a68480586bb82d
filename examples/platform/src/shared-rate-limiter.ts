import { systemClock, type Clock } from '@forge/core';
import type { RateWindows } from '@forge/store';
import { RateLimiter, type RateDecision } from './rate-limiter.js';

/** A fixed-window limit, in this process's memory or shared through the store. */
export interface RequestLimiter {
  readonly limit: number;
  take(subject: string): RateDecision | Promise<RateDecision>;
}

/**
 * The same fixed window as RateLimiter, counted in the store: one upsert per request, so every replica adds to the
 * same count and N replicas allow the limit once, not N times. `scope` keeps the kinds of limit apart (per key,
 * per address, failed authentications).
 */
export class SharedRateLimiter implements RequestLimiter {
  constructor(
    private readonly windows: RateWindows,
    private readonly scope: string,
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  async take(subject: string): Promise<RateDecision> {
    const now = this.clock.now();
    const { count, windowStart } = await this.windows.take(`${this.scope}:${subject}`, now, this.windowMs);
    const resetMs = windowStart + this.windowMs;
    return {
      allowed: count <= this.limit,
      limit: this.limit,
      remaining: Math.max(0, this.limit - count),
      resetAt: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - now) / 1000)),
    };
  }
}

/** Shared through the store when there is one; in this process's memory otherwise. */
export function requestLimiter(
  windows: RateWindows | undefined,
  scope: string,
  limit: number,
  clock: Clock = systemClock,
): RequestLimiter {
  return windows ? new SharedRateLimiter(windows, scope, limit, 60_000, clock) : new RateLimiter(limit, 60_000, clock);
}
