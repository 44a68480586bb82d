import { spendDay, type KeySpend, type Spend } from '@forge/store';
import { ApiError } from './api-error.js';
import type { KeyCaps } from './api-keys.js';

/** The cap a spend has reached, if any: a figure at or over its cap. */
export function capReached(spend: Spend, caps: KeyCaps): 'cost' | 'tokens' | undefined {
  if (caps.costUsd !== undefined && spend.costUsd >= caps.costUsd) return 'cost';
  if (caps.tokens !== undefined && spend.tokens >= caps.tokens) return 'tokens';
  return undefined;
}

/** The next UTC midnight after `now`: when a day's spend starts again from nothing. */
export const nextUtcMidnight = (now: number) => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
};

/** What a key spent today against its cap, as the API shows it. */
export const spendJson = (spend: Spend, caps: KeyCaps) => ({
  spent: { cost_usd: spend.costUsd, tokens: spend.tokens },
  cap: {
    ...(caps.costUsd !== undefined ? { cost_usd: caps.costUsd } : {}),
    ...(caps.tokens !== undefined ? { tokens: caps.tokens } : {}),
  },
});

/**
 * Refuses a new message from a key whose day is spent: 429 BUDGET_EXHAUSTED, with Retry-After and `resets_at`
 * (the next UTC midnight). The figure is the store's, so a key spent through one replica is refused by all.
 */
export async function refuseSpentKey(spends: KeySpend, keyId: string, caps: KeyCaps, now: number): Promise<void> {
  const spend = await spends.get(keyId, spendDay(now));
  const reached = capReached(spend, caps);
  if (!reached) return;
  const resets = nextUtcMidnight(now);
  throw new ApiError(
    429,
    'BUDGET_EXHAUSTED',
    `This API key has spent its daily ${reached === 'cost' ? 'cost' : 'token'} budget; it resets at ${new Date(resets).toISOString()}`,
    { 'retry-after': String(Math.max(1, Math.ceil((resets - now) / 1000))) },
    { resets_at: new Date(resets).toISOString(), ...spendJson(spend, caps) },
  );
}
