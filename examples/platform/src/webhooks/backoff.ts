/**
 * Delay before retry number `attempt` (1 = the first retry): "full jitter" — uniformly random between 0 and the
 * exponential ceiling `base × 2^(attempt-1)`, capped at `max` — so many channels failing at once spread out
 * instead of retrying in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
}

/**
 * A `Retry-After` header as a delay in ms from `nowMs`: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`); undefined when absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": neither form
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
