import { eventsOfChunks, type JournalEvent } from './journal-chunks.js';
import type { SqlClient } from './sql.js';

/** An undelivered webhook of a run: its journaled event, and which delivery it is. */
export interface OutboxItem extends JournalEvent {
  webhookId: string;
  isFinal: boolean;
}

export type OutboxState = 'delivered' | 'rejected' | 'failed';

/** Undelivered outbox rows of a run, in seq order, with their events (read from the journal's chunks). */
export async function pendingOutbox(sql: SqlClient, requestId: string): Promise<OutboxItem[]> {
  const pending = await sql.query(
    `select seq, webhook_id, is_final from forge_outbox where request_id = $1 and state = 'pending' order by seq`,
    [requestId],
  );
  if (!pending.length) return [];
  const from = Number(pending[0]!.seq);
  const to = Number(pending.at(-1)!.seq);
  const events = new Map(
    eventsOfChunks(
      await sql.query(
        `select first_seq, types, times, bodies from forge_event_chunks
         where request_id = $1 and last_seq >= $2 and first_seq <= $3 order by first_seq`,
        [requestId, from, to],
      ),
      from - 1,
      to - from + 1,
    ).map((e) => [e.seq, e]),
  );
  const items: OutboxItem[] = [];
  for (const r of pending) {
    const event = events.get(Number(r.seq));
    // An outbox row is written with its event, in one statement: a row without one cannot be delivered.
    if (event) items.push({ ...event, webhookId: r.webhook_id as string, isFinal: r.is_final as boolean });
  }
  return items;
}
