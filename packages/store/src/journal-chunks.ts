import { ForgeError } from '@forge/core';
import type { Row } from './sql.js';

/** One journaled event: `body` is the event's JSON exactly as readers get it. */
export interface JournalEvent {
  seq: number;
  type: string;
  time: number;
  body: string;
}

/** An event to journal; with `webhookId` it also becomes an outbox row. */
export interface NewEvent extends JournalEvent {
  webhookId?: string;
}

/** A chunk row holds at most this many characters of bodies (a bigger event gets a row of its own). */
const CHUNK_CHARS = 8 * 1024 * 1024;

interface Chunk {
  first: number;
  last: number;
  types: string;
  times: string;
  bodies: string;
}

/**
 * A batch as journal rows (migration 2): runs of contiguous events, their entries joined. A
 * newline in a body or type would split it on reading, and a gap in seqs would shift every
 * later event of the chunk: both are refused rather than stored wrong.
 */
export function chunksOf(events: readonly NewEvent[]): Chunk[] {
  const chunks: Chunk[] = [];
  let from = 0;
  let chars = 0;
  const close = (to: number) => {
    const part = events.slice(from, to);
    chunks.push({
      first: part[0]!.seq,
      last: part.at(-1)!.seq,
      types: part.map((e) => e.type).join('\n'),
      times: part.map((e) => e.time).join(','),
      bodies: part.map((e) => e.body).join('\n'),
    });
    from = to;
    chars = 0;
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.body.includes('\n') || e.type.includes('\n'))
      throw new ForgeError('STORE_BAD_EVENT', `Event ${e.seq} has a raw newline in its body or type`, 'validation');
    if (i > 0 && e.seq !== events[i - 1]!.seq + 1)
      throw new ForgeError(
        'STORE_BAD_EVENT',
        `Events must have contiguous seqs; ${e.seq} follows ${events[i - 1]!.seq}`,
        'validation',
      );
    if (i > from && chars + e.body.length > CHUNK_CHARS) close(i);
    chars += e.body.length;
  }
  if (from < events.length) close(events.length);
  return chunks;
}

/** The events of chunk rows that fall in (afterSeq, afterSeq + limit], in seq order. */
export function eventsOfChunks(rows: readonly Row[], afterSeq: number, limit: number): JournalEvent[] {
  const out: JournalEvent[] = [];
  for (const r of rows) {
    const first = Number(r.first_seq);
    const types = (r.types as string).split('\n');
    const times = (r.times as string).split(',');
    const bodies = (r.bodies as string).split('\n');
    for (let i = Math.max(0, afterSeq + 1 - first); i < bodies.length && out.length < limit; i++)
      out.push({ seq: first + i, type: types[i]!, time: Number(times[i]), body: bodies[i]! });
  }
  return out;
}

/**
 * The statements that journal `events` for the run the `held` CTE returns (none when it returns
 * nothing): its chunk rows and the outbox rows of events with a webhook id. Parameters are
 * appended to `params`; the text only depends on how many chunks there are.
 */
export function journalCtes(events: readonly NewEvent[], params: unknown[]): string[] {
  const ctes: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  chunksOf(events).forEach((c, i) => {
    ctes.push(
      `chunk${i} as (insert into forge_event_chunks (request_id, first_seq, last_seq, types, times, bodies)
        select request_id, ${p(c.first)}::integer, ${p(c.last)}::integer, ${p(c.types)}::text, ${p(c.times)}::text, ${p(c.bodies)}::text from held)`,
    );
  });
  const hooks = events.filter((e) => e.webhookId !== undefined);
  if (hooks.length) {
    // The final event's seq (0: none in this batch) rather than a boolean array, which not every driver encodes.
    const finalSeq = hooks.find((e) => e.type === 'run.completed')?.seq ?? 0;
    ctes.push(
      `hooks as (insert into forge_outbox (request_id, seq, webhook_id, is_final)
        select held.request_id, u.seq, u.webhook_id, u.seq = ${p(finalSeq)}::integer
        from held cross join unnest(${p(hooks.map((e) => e.seq))}::integer[], ${p(hooks.map((e) => e.webhookId))}::text[]) as u(seq, webhook_id))`,
    );
  }
  return ctes;
}
