import type { SqlClient } from './sql.js';

/**
 * Webhook ids a receiver has handled, in a database, so a redelivery is recognised after the
 * receiver restarts and by every receiver sharing the database.
 */
export interface SeenWebhookStore {
  /** Records `id` until `nowMs + ttlMs`; false when it was already recorded and has not expired. */
  remember(id: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Un-records `id` (handling failed; the sender's retry must be accepted). */
  forget(id: string): Promise<void>;
}

export function sqlSeenWebhookStore(sql: SqlClient): SeenWebhookStore {
  let sweeps = 0;
  return {
    async remember(id, now, ttlMs) {
      // Now and then, not on every call: expired ids cost nothing but space.
      if (++sweeps % 500 === 0) await sql.query('delete from forge_seen_webhooks where expires_at <= $1', [now]);
      const rows = await sql.query(
        `insert into forge_seen_webhooks (webhook_id, expires_at) values ($1, $2)
         on conflict (webhook_id) do update set expires_at = excluded.expires_at
           where forge_seen_webhooks.expires_at <= $3
         returning webhook_id`,
        [id, now + ttlMs, now],
      );
      return rows.length > 0;
    },
    async forget(id) {
      await sql.query('delete from forge_seen_webhooks where webhook_id = $1', [id]);
    },
  };
}
