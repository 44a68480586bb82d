import { chunksOf, type NewEvent } from './journal-chunks.js';
import { toJsonColumn as json } from './json-column.js';
import { JOURNAL_CHANNEL, QUEUE_CHANNEL } from './notify-channels.js';
import type { RunEnd } from './run-record.js';
import { RunLeaseLostError, RunStoreWriteError } from './run-store-errors.js';
import type { SqlClient } from './sql.js';

/** One run's batch in a shared journal statement, as `RunStore.append` takes it. */
export interface JournalBatch {
  requestId: string;
  owner: string;
  events: readonly NewEvent[];
  end?: RunEnd | undefined;
}

// Flags cross as 0/1 integers, not a boolean array, which not every driver encodes.
const STATEMENT = `with v as (
    select * from unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[], $6::text[], $7::text[],
                         $8::text[], $9::double precision[])
      as v(request_id, owner, n, ended, release, status, result, error, finished_at)),
  held as (
    update forge_runs f set event_count = f.event_count + v.n,
      status = case when v.ended = 1 then v.status else f.status end,
      result = case when v.ended = 1 then v.result else f.result end,
      error = case when v.ended = 1 then v.error else f.error end,
      finished_at = case when v.ended = 1 then v.finished_at else f.finished_at end,
      cancel_requested = case when v.ended = 1 then false else f.cancel_requested end,
      owner = case when v.release = 1 then null else f.owner end,
      lease_until = case when v.release = 1 then null else f.lease_until end
    from v where f.request_id = v.request_id and f.owner = v.owner and f.status = 'running'
    returning f.request_id, f.user_id, f.agent_id, f.key_id, f.status, f.finished_at, v.ended, v.owner as by),
  chunks as (
    insert into forge_event_chunks (request_id, first_seq, last_seq, types, times, bodies)
    select c.request_id, c.first_seq, c.last_seq, c.types, c.times, c.bodies
    from unnest($10::text[], $11::integer[], $12::integer[], $13::text[], $14::text[], $15::text[])
      as c(request_id, first_seq, last_seq, types, times, bodies)
    join held on held.request_id = c.request_id),
  hooks as (
    insert into forge_outbox (request_id, seq, webhook_id, is_final)
    select u.request_id, u.seq, u.webhook_id, u.final = 1
    from unnest($16::text[], $17::integer[], $18::text[], $19::integer[]) as u(request_id, seq, webhook_id, final)
    join held on held.request_id = u.request_id),
  usage as (
    insert into forge_run_usage
      (request_id, user_id, agent_id, key_id, provider, status, finished_at, duration_ms, tokens_in, tokens_out, cost_usd)
    select held.request_id, held.user_id, held.agent_id, held.key_id, u.provider, held.status, held.finished_at,
      u.duration_ms, u.tokens_in, u.tokens_out, u.cost_usd
    from unnest($20::text[], $21::text[], $22::double precision[], $23::double precision[], $24::double precision[],
                $25::double precision[]) as u(request_id, provider, duration_ms, tokens_in, tokens_out, cost_usd)
    join held on held.request_id = u.request_id
    on conflict (request_id) do nothing)
  select request_id, pg_notify('${JOURNAL_CHANNEL}', request_id),
    case when ended = 1 then pg_notify('${QUEUE_CHANNEL}', by) end
  from held`;

/**
 * Journals the batches of many running runs in one statement: each run's lease check, chunk rows,
 * outbox rows and, with `end`, its final status and usage, as `RunStore.append` does for one run. A
 * run whose lease `owner` no longer holds gets RunLeaseLostError and nothing of its batch is kept;
 * the others commit. At 1,000 runs each emitting every 100 ms, a statement per run per batch was
 * the database's whole queue (PGlite runs one at a time, ~0.3–3 ms each); one per turn of the event
 * loop is not. The statement's text is the same whatever the batches (arrays), so it is parsed alike.
 *
 * Returns, in order, undefined for a committed batch or the error of one that was not. A batch the
 * database refuses fails the statement for all: then each is tried alone (`single`), so one run's
 * bad value costs only that run. At most one batch per run (the caller keeps a run's batches in order).
 */
export async function appendBatches(
  sql: SqlClient,
  batches: readonly JournalBatch[],
  single: (batch: JournalBatch) => Promise<void>,
): Promise<Array<unknown | undefined>> {
  const out: Array<unknown | undefined> = new Array(batches.length).fill(undefined);
  const run = { ids: [] as string[], owners: [] as string[], counts: [] as number[], ended: [] as number[] };
  const fin = {
    release: [] as number[],
    status: [] as Array<string | null>,
    result: [] as Array<string | null>,
    error: [] as Array<string | null>,
    at: [] as Array<number | null>,
  };
  const chunk = { ids: [] as string[], first: [] as number[], last: [] as number[], types: [] as string[] };
  const chunkText = { times: [] as string[], bodies: [] as string[] };
  const hook = { ids: [] as string[], seqs: [] as number[], webhookIds: [] as string[], final: [] as number[] };
  const use = { ids: [] as string[], provider: [] as string[], figures: [[], [], [], []] as number[][] };
  const sent: number[] = [];
  batches.forEach((b, i) => {
    let chunks: ReturnType<typeof chunksOf>;
    let result: string | null = null;
    let error: string | null = null;
    try {
      chunks = chunksOf(b.events);
    } catch (failure) {
      // STORE_BAD_EVENT, as `append` throws it.
      out[i] = failure;
      return;
    }
    if (b.end) {
      try {
        result = json(b.end.result);
        error = json(b.end.error);
      } catch (cause) {
        out[i] = new RunStoreWriteError(b.requestId, cause);
        return;
      }
    }
    sent.push(i);
    run.ids.push(b.requestId);
    run.owners.push(b.owner);
    run.counts.push(b.events.length);
    run.ended.push(b.end ? 1 : 0);
    fin.release.push(b.end?.release ? 1 : 0);
    fin.status.push(b.end?.status ?? null);
    fin.result.push(result);
    fin.error.push(error);
    fin.at.push(b.end?.finishedAt ?? null);
    for (const c of chunks) {
      chunk.ids.push(b.requestId);
      chunk.first.push(c.first);
      chunk.last.push(c.last);
      chunk.types.push(c.types);
      chunkText.times.push(c.times);
      chunkText.bodies.push(c.bodies);
    }
    for (const e of b.events)
      if (e.webhookId !== undefined) {
        hook.ids.push(b.requestId);
        hook.seqs.push(e.seq);
        hook.webhookIds.push(e.webhookId);
        hook.final.push(e.type === 'run.completed' ? 1 : 0);
      }
    const usage = b.end?.usage;
    if (usage) {
      use.ids.push(b.requestId);
      use.provider.push(usage.provider);
      use.figures[0]!.push(usage.durationMs);
      use.figures[1]!.push(usage.tokensIn);
      use.figures[2]!.push(usage.tokensOut);
      use.figures[3]!.push(usage.costUsd);
    }
  });
  if (!sent.length) return out;
  let rows: Array<{ request_id: string }>;
  try {
    rows = await sql.query<{ request_id: string }>(STATEMENT, [
      ...[run.ids, run.owners, run.counts, run.ended],
      ...[fin.release, fin.status, fin.result, fin.error, fin.at],
      ...[chunk.ids, chunk.first, chunk.last, chunk.types, chunkText.times, chunkText.bodies],
      ...[hook.ids, hook.seqs, hook.webhookIds, hook.final],
      ...[use.ids, use.provider, ...use.figures],
    ]);
  } catch (error) {
    if (sent.length === 1) {
      out[sent[0]!] = new RunStoreWriteError(run.ids[0]!, error);
      return out;
    }
    // Whose value it was is not said: each alone, so only that run fails.
    await Promise.all(
      sent.map((i) =>
        single(batches[i]!).catch((failure: unknown) => {
          out[i] = failure;
        }),
      ),
    );
    return out;
  }
  const held = new Set(rows.map((r) => r.request_id));
  for (const i of sent) if (!held.has(batches[i]!.requestId)) out[i] = new RunLeaseLostError(batches[i]!.requestId);
  return out;
}
