import { ValidationError } from './errors.js';

export interface BackoffOptions {
  /** The first delay's ceiling. Default 500 ms. */
  initialMs?: number;
  /** No delay is longer. Default 30 s. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /** Give up after this many failed attempts in a row. Default: never. */
  maxAttempts?: number;
  /** [0, 1) — injectable for tests. Default Math.random. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry) with "full jitter": uniformly random in
 * [0, min(max, initial · multiplier^(attempt-1))), so many clients failing at once spread out instead of retrying
 * in lockstep (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number, multiplier = 2) {
  const ceiling = Math.min(maxMs, initialMs * multiplier ** Math.min(Math.max(attempt - 1, 0), 60));
  return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): attempt n waits a uniform random time in [0, min(max, initial · multiplierⁿ)), which
 * spreads a fleet of agents reconnecting to a restarted platform instead of having them arrive
 * in waves.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly random: () => number;
  readonly maxAttempts: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.multiplier = options.multiplier ?? 2;
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts;
    const bad = (path: string, message: string) =>
      new ValidationError('INVALID_BACKOFF', `backoff.${path} ${message}`, [
        { path: `backoff.${path}`, code: 'INVALID_BACKOFF', message },
      ]);
    if (!(this.initialMs > 0)) throw bad('initialMs', 'must be positive');
    if (!(this.maxMs >= this.initialMs)) throw bad('maxMs', 'must be at least initialMs');
    if (!(this.multiplier >= 1)) throw bad('multiplier', 'must be at least 1');
    if (this.maxAttempts !== undefined && !(Number.isInteger(this.maxAttempts) && this.maxAttempts >= 1))
      throw bad('maxAttempts', 'must be a positive integer');
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  get exhausted(): boolean {
    return this.maxAttempts !== undefined && this.attempt >= this.maxAttempts;
  }

  /** The ceiling of the next delay. */
  ceiling(): number {
    return Math.min(this.maxMs, this.initialMs * this.multiplier ** Math.min(this.attempt, 60));
  }

  /** Records a failed attempt and returns how long to wait before the next. */
  next(): number {
    this.attempt++;
    return backoffDelay(this.attempt, this.initialMs, this.maxMs, this.random, this.multiplier);
  }

  /** After a success: the next failure starts from `initialMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}
