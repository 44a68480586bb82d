import { spendDay, type KeySpend } from '@forge/store';
import { nextUtcMidnight, spendJson } from '../key-budget.js';
import { type ApiContext, reply } from './context.js';
import type { Router } from './router.js';

/**
 * `GET /api/v1/spend`: what the calling key spent today (UTC), against its daily cap when it has one, read from
 * the store, so every replica answers the same.
 */
export function spendRoutes(router: Router<ApiContext>, options: { spends: KeySpend; now?: () => number }): void {
  router.on('GET', '/api/v1/spend', async (ctx) => {
    const now = (options.now ?? Date.now)();
    const day = spendDay(now);
    const spend = await options.spends.get(ctx.principal.keyId, day);
    const { spent, cap } = spendJson(spend, ctx.principal.caps ?? {});
    reply(ctx, 200, {
      day,
      spent,
      ...(ctx.principal.caps ? { cap } : {}),
      resets_at: new Date(nextUtcMidnight(now)).toISOString(),
    });
  });
}
