import { eventsOfChunks, journalCtes, type JournalEvent, type NewEvent } from './journal-chunks.js';
import { pendingOutbox, type OutboxItem, type OutboxState } from './run-outbox.js';
import { toJsonColumn as json } from './json-column.js';
import { CANCEL_CHANNEL, JOURNAL_CHANNEL, QUEUE_CHANNEL } from './notify-channels.js';
import { toRecord, type RunEnd, type RunRecord, type RunStatus, type RunWebhook } from './run-record.js';
import { RunLeaseLostError, RunStoreWriteError } from './run-store-errors.js';
import { usageCte } from './run-usage.js';
import type { Sql, SqlClient } from './sql.js';

/** The largest seq the journal's integer columns hold. */
const MAX_SEQ = 2 ** 31 - 1;

export type { OutboxItem, OutboxState };

/** A page of an agent's runs, and what to list. */
export interface RunPage {
  limit: number;
  before?: number;
  statuses?: readonly RunStatus[];
  since?: number;
  until?: number;
}

/**
 * The run queue, the event journal and the webhook outbox. Every change that must not be half
 * done (a batch of events and their outbox rows; a run's final event and its final status) is
 * one transaction.
 */
export class RunStore {
  constructor(readonly sql: SqlClient) {}

  /**
   * Queues a run at the end of its agent's queue, unless `maxQueued` runs are already waiting
   * there. An advisory lock per agent makes the cap exact across replicas.
   */
  async enqueue(input: {
    requestId: string;
    userId: string;
    agentId: string;
    request: Record<string, unknown>;
    webhook?: RunWebhook;
    /** The dial-home agent that must execute it: only the instance holding its session claims it. */
    remoteAgentId?: string;
    /** The API key that sent it (SHA-256 hex). */
    keyId?: string;
    now: number;
    maxQueued: number;
    /** The instance queueing it: the QUEUE_CHANNEL payload, so it can skip its own notifications. */
    by?: string;
  }): Promise<{ run: RunRecord; ahead: number } | { full: true; queued: number }> {
    // Counted and inserted in one statement: on PostgreSQL taken after the agent's lock (its snapshot
    // sees every run queued by whoever held the lock before); PGlite runs one statement at a time for
    // its one process, so there the statement alone is exact, and a message costs one round trip.
    const enqueue = async (q: Sql) => {
      const [row] = await q.query(
        // The notification rides on the insert; it is delivered at commit.
        `with waiting as (
           select count(*)::int as forge_waiting from forge_runs where user_id = $2::text and agent_id = $3::text and status = 'queued'),
         queued as (
           insert into forge_runs (request_id, user_id, agent_id, status, request, webhook, created_at, remote_agent_id, key_id)
           select $1::text, $2::text, $3::text, 'queued', $4::text, $5::text, $6::double precision, $7::text, $9::text from waiting where forge_waiting < $10::int
           returning *)
         select waiting.forge_waiting, queued.*,
                case when queued.request_id is null then null else pg_notify('${QUEUE_CHANNEL}', $8) end as notified
         from waiting left join queued on true`,
        [
          input.requestId,
          input.userId,
          input.agentId,
          json(input.request),
          json(input.webhook),
          input.now,
          input.remoteAgentId ?? null,
          input.by ?? '',
          input.keyId ?? null,
          input.maxQueued,
        ],
      );
      const queued = Number(row?.forge_waiting ?? 0);
      if (row?.request_id == null) return { full: true as const, queued };
      return { run: toRecord(row), ahead: queued };
    };
    if (this.sql.engine === 'pglite') return enqueue(this.sql);
    return this.sql.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`${input.userId}/${input.agentId}`]);
      return enqueue(tx);
    });
  }

  /**
   * Claims the oldest queued run whose agent runs nothing and has no older queued run, for
   * `owner` until `leaseUntil`. SKIP LOCKED: replicas claiming together never get the same run.
   * A run for a remote (dial-home) agent is skipped while another live instance holds the agent's
   * session: it can only execute there. Held here, or offline everywhere, it is claimed (offline,
   * it then fails AGENT_OFFLINE as on a single instance). "Live" is the lease rule: an instance
   * heartbeat younger than one lease (`leaseUntil - now`).
   */
  async claimNext(owner: string, now: number, leaseUntil: number): Promise<RunRecord | undefined> {
    return (await this.claim(owner, now, leaseUntil, 1))[0];
  }

  /**
   * Claims up to `limit` runs at once, as `claimNext` claims one: each the oldest queued run of an
   * agent that runs nothing (an agent's younger runs wait behind its oldest, so one statement never
   * claims two of one agent), oldest first. One round trip for a whole dispatch pass.
   */
  async claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<RunRecord[]> {
    try {
      const rows = await this.sql.query(
        `with next as (
           select r.request_id from forge_runs r
           where r.status = 'queued'
             -- Computed once per claim (an InitPlan), and estimated as barely selective, so the plan stays
             -- the ordered scan that stops at the first free run (a per-row OR/EXISTS tipped PGlite into
             -- sorting every queued run: 500 ms a claim with 2,000 queued).
             and coalesce(r.remote_agent_id, '') <> all (array(
                   select a.agent_id from forge_remote_agents a join forge_instances i on i.instance_id = a.instance_id
                   where a.instance_id is not null and a.instance_id <> $1 and a.revoked_at is null
                     and i.heartbeat_at >= $4))
             and not exists (select 1 from forge_runs b
                             where b.user_id = r.user_id and b.agent_id = r.agent_id and b.status = 'running')
             and not exists (select 1 from forge_runs e
                             where e.user_id = r.user_id and e.agent_id = r.agent_id and e.status = 'queued'
                               and e.position < r.position)
           order by r.position
           limit $5
           for update skip locked)
         update forge_runs f set status = 'running', owner = $1, lease_until = $3, started_at = $2
         from next where f.request_id = next.request_id
         returning f.*`,
        [owner, now, leaseUntil, now - (leaseUntil - now), limit],
      );
      return rows.map(toRecord).sort((a, b) => a.position - b.position);
    } catch (error) {
      // The one-running-per-agent index refused a claim that raced another: nothing to run now (the
      // whole statement is undone; the next pass claims the others).
      if ((error as { code?: string }).code === '23505') return [];
      throw error;
    }
  }

  /**
   * Journals a batch of a running run's events (and their outbox rows), and with `end` its final
   * status, in one transaction. Throws RunLeaseLostError when `owner` no longer holds the run,
   * RunStoreWriteError when the database failed the write otherwise (STORE_BAD_EVENT, before
   * anything is sent, for a batch it would store wrong); nothing of the batch is kept either way.
   */
  async append(requestId: string, owner: string, events: readonly NewEvent[], end?: RunEnd): Promise<void> {
    const params: unknown[] = [requestId, owner, events.length];
    let set = 'event_count = event_count + $3';
    if (end) {
      let result: string | null;
      let error: string | null;
      try {
        result = json(end.result);
        error = json(end.error);
      } catch (cause) {
        // Not serialisable (nested deeper than JSON.stringify's stack, a cycle, a BigInt): a failed write, not a lost lease.
        throw new RunStoreWriteError(requestId, cause);
      }
      params.push(end.status, result, error, end.finishedAt);
      set += ', status = $4, result = $5::text, error = $6::text, finished_at = $7, cancel_requested = false';
      if (end.release) set += ', owner = null, lease_until = null';
    }
    // One statement, so one round trip and no explicit transaction: the lease check and the rows
    // it guards commit together or not at all.
    const held = `held as (update forge_runs set ${set} where request_id = $1 and owner = $2 and status = 'running'
                  returning request_id, user_id, agent_id, key_id, status, finished_at)`;
    const ctes = [held, ...journalCtes(events, params)];
    if (end?.usage) ctes.push(usageCte(end.usage, params));
    const statement = `with ${ctes.join(',\n')}
       select request_id, pg_notify('${JOURNAL_CHANNEL}', request_id)${end ? `, pg_notify('${QUEUE_CHANNEL}', $2)` : ''} from held`;
    let rows: unknown[];
    try {
      rows = await this.sql.query(statement, params);
    } catch (error) {
      throw new RunStoreWriteError(requestId, error);
    }
    if (!rows.length) throw new RunLeaseLostError(requestId);
  }

  /**
   * Ends a run that is not being executed here (a queued run cancelled, a running run whose
   * instance died) with one final event after the last journaled one. `make` builds that event
   * from its seq. Returns undefined when the run is not in one of `from` (someone else ended it).
   */
  async finish(
    requestId: string,
    from: readonly RunStatus[],
    owner: string,
    leaseUntil: number,
    make: (seq: number, run: RunRecord) => { event: NewEvent; end: RunEnd },
  ): Promise<RunRecord | undefined> {
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query('select * from forge_runs where request_id = $1 for update', [requestId]);
      if (!row) return undefined;
      const run = toRecord(row);
      if (!from.includes(run.status)) return undefined;
      if (run.status === 'running' && run.owner !== owner) return undefined;
      const [last] = await tx.query<{ seq: number | null }>(
        'select max(last_seq) as seq from forge_event_chunks where request_id = $1',
        [requestId],
      );
      const { event, end } = make(Number(last?.seq ?? 0) + 1, run);
      const params: unknown[] = [requestId, owner];
      await tx.query(
        `with held as (select $1::text as request_id), ${journalCtes([event], params).join(',\n')}
         select pg_notify('${JOURNAL_CHANNEL}', request_id), pg_notify('${QUEUE_CHANNEL}', $2::text) from held`,
        params,
      );
      const keep = !end.release;
      const [updated] = await tx.query(
        `update forge_runs set status = $2, result = $3::text, error = $4::text, finished_at = $5,
           event_count = event_count + 1, cancel_requested = false, owner = $6, lease_until = $7
         where request_id = $1 returning *`,
        [
          requestId,
          end.status,
          json(end.result),
          json(end.error),
          end.finishedAt,
          keep ? owner : null,
          keep ? leaseUntil : null,
        ],
      );
      if (end.usage) {
        const usageParams: unknown[] = [requestId];
        await tx.query(
          `with ${usageCte(end.usage, usageParams, 'held as (select * from forge_runs where request_id = $1)')} select 1`,
          usageParams,
        );
      }
      return toRecord(updated!);
    });
  }

  /** Queued runs, every agent's, whichever replica will run them (the queue depth metric). */
  async queuedCount(): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      `select count(*)::int as n from forge_runs where status = 'queued'`,
    );
    return Number(row?.n ?? 0);
  }

  async get(requestId: string): Promise<RunRecord | undefined> {
    const [row] = await this.sql.query('select * from forge_runs where request_id = $1', [requestId]);
    return row ? toRecord(row) : undefined;
  }

  /**
   * An agent's runs, newest first; `before` is the `position` of the last run of the previous page. Optionally only
   * runs in `statuses`, created at or after `since` and before `until` (epoch ms).
   */
  async list(userId: string, agentId: string, page: RunPage): Promise<RunRecord[]> {
    const rows = await this.sql.query(
      `select * from forge_runs where user_id = $1 and agent_id = $2 and ($3::bigint is null or position < $3)
         and ($5::text is null or status = any(string_to_array($5, ','))) and ($6::float8 is null or created_at >= $6)
         and ($7::float8 is null or created_at < $7)
       order by position desc limit $4`,
      [
        userId,
        agentId,
        page.before ?? null,
        page.limit,
        page.statuses?.join(',') ?? null,
        page.since ?? null,
        page.until ?? null,
      ],
    );
    return rows.map(toRecord);
  }

  /** The agent's running run and its queued ones, oldest first. */
  async active(userId: string, agentId: string): Promise<{ running?: RunRecord; queued: RunRecord[] }> {
    const rows = (
      await this.sql.query(
        `select * from forge_runs where user_id = $1 and agent_id = $2 and status in ('queued', 'running')
         order by position`,
        [userId, agentId],
      )
    ).map(toRecord);
    const running = rows.find((r) => r.status === 'running');
    return { ...(running ? { running } : {}), queued: rows.filter((r) => r.status === 'queued') };
  }

  /** Per agent of the user: the running request id and how many wait. */
  async activity(userId: string): Promise<Map<string, { running?: string; queued: number }>> {
    const rows = await this.sql.query<{ agent_id: string; status: string; request_id: string }>(
      `select agent_id, status, request_id from forge_runs where user_id = $1 and status in ('queued', 'running')`,
      [userId],
    );
    const out = new Map<string, { running?: string; queued: number }>();
    for (const r of rows) {
      const a = out.get(r.agent_id) ?? { queued: 0 };
      if (r.status === 'running') a.running = r.request_id;
      else a.queued++;
      out.set(r.agent_id, a);
    }
    return out;
  }

  async events(requestId: string, afterSeq: number, limit = 1_000): Promise<JournalEvent[]> {
    const rows = await this.sql.query(
      `select first_seq, types, times, bodies from forge_event_chunks
       where request_id = $1 and last_seq > $2 and first_seq <= $3 order by first_seq`,
      // seq is a PostgreSQL integer: a page past its top would overflow the parameter, not find more.
      [requestId, afterSeq, Math.min(afterSeq + limit, MAX_SEQ)],
    );
    return eventsOfChunks(rows, afterSeq, limit);
  }

  /** Asks the instance running it to cancel it (seen at its next heartbeat). False when it is not running. */
  async requestCancel(requestId: string): Promise<boolean> {
    const rows = await this.sql.query(
      `with asked as (update forge_runs set cancel_requested = true where request_id = $1 and status = 'running'
                      returning request_id, owner)
       select request_id, pg_notify('${CANCEL_CHANNEL}', owner) from asked`,
      [requestId],
    );
    return rows.length > 0;
  }

  /** Running runs per dial-home agent, whichever instance executes them (what every replica lists). */
  async runningByRemoteAgent(): Promise<Map<string, number>> {
    const rows = await this.sql.query<{ remote_agent_id: string; n: number }>(
      `select remote_agent_id, count(*)::int as n from forge_runs
       where status = 'running' and remote_agent_id is not null group by remote_agent_id`,
    );
    return new Map(rows.map((r) => [r.remote_agent_id, Number(r.n)]));
  }

  /** The runs `owner` executes that someone asked to cancel. */
  async cancelsFor(owner: string): Promise<string[]> {
    const rows = await this.sql.query<{ request_id: string }>(
      `select request_id from forge_runs where owner = $1 and cancel_requested and status = 'running'`,
      [owner],
    );
    return rows.map((r) => r.request_id);
  }

  /**
   * Calls `on` for each notification on `channel` (see JOURNAL_CHANNEL…). Undefined when the
   * engine cannot listen: the caller then polls.
   */
  async onNotify(
    channel: typeof JOURNAL_CHANNEL | typeof QUEUE_CHANNEL | typeof CANCEL_CHANNEL,
    on: (payload: string) => void,
  ): Promise<(() => Promise<void>) | undefined> {
    return this.sql.listen?.(channel, on);
  }

  /**
   * Renews `owner`'s leases and its instance row. Returns the runs it still holds (a run missing
   * from it was taken over: stop executing it) and those someone asked to cancel.
   */
  async heartbeat(
    owner: string,
    now: number,
    leaseUntil: number,
  ): Promise<{ held: Set<string>; cancelRequested: string[] }> {
    await this.sql.query(
      `insert into forge_instances (instance_id, started_at, heartbeat_at) values ($1, $2, $2)
       on conflict (instance_id) do update set heartbeat_at = excluded.heartbeat_at`,
      [owner, now],
    );
    const rows = await this.sql.query<{ request_id: string; cancel_requested: boolean }>(
      `update forge_runs set lease_until = $2 where owner = $1 and handed_over_at is null
       returning request_id, cancel_requested`,
      [owner, leaseUntil],
    );
    return {
      held: new Set(rows.map((r) => r.request_id)),
      cancelRequested: rows.filter((r) => r.cancel_requested).map((r) => r.request_id),
    };
  }

  /**
   * Takes over runs whose holder's lease ran out (with `all`, every run held by anyone else: this
   * instance is known to be the only one; with `mine`, also its own from a previous life).
   */
  async takeOver(
    owner: string,
    now: number,
    leaseUntil: number,
    options: { all?: boolean; mine?: boolean } = {},
  ): Promise<RunRecord[]> {
    const rows = await this.sql.query(
      `update forge_runs f set owner = $1, lease_until = $3
       from (select request_id from forge_runs
             where owner is not null
               and ((owner <> $1 and (lease_until < $2 or $4::boolean)) or (owner = $1 and $5::boolean))
             order by position
             for update skip locked) t
       where f.request_id = t.request_id
       returning f.*`,
      [owner, now, leaseUntil, options.all ?? false, options.mine ?? false],
    );
    return rows.map(toRecord);
  }

  /**
   * A stopping instance lets go of a run that goes on at its agent: any other instance may take it over at
   * once (`takeOver`) and adopts it (re-attaches from its last journaled event) rather than ending it. False
   * when `owner` does not hold it running any more.
   */
  async handOver(requestId: string, owner: string, now: number, passTo?: string): Promise<boolean> {
    // `passTo`: a taker that cannot attach names another owner, so that it too can take the run over again later.
    const rows = await this.sql.query(
      `update forge_runs set handed_over_at = $3, lease_until = 0, owner = coalesce($4, owner)
       where request_id = $1 and owner = $2 and status = 'running' returning request_id`,
      [requestId, owner, now, passTo ?? null],
    );
    return rows.length > 0;
  }

  /** The run is adopted by `owner` (which took it over): its lease is renewed by heartbeats again. */
  async adopted(requestId: string, owner: string): Promise<boolean> {
    const rows = await this.sql.query(
      `update forge_runs set handed_over_at = null where request_id = $1 and owner = $2 returning request_id`,
      [requestId, owner],
    );
    return rows.length > 0;
  }

  /** Undelivered outbox rows of a run, in seq order, with their events. */
  pendingOutbox(requestId: string): Promise<OutboxItem[]> {
    return pendingOutbox(this.sql, requestId);
  }

  async settleOutbox(requestId: string, seq: number, state: OutboxState, now: number): Promise<void> {
    await this.sql.query(
      `update forge_outbox set state = $3, settled_at = $4 where request_id = $1 and seq = $2 and state = 'pending'`,
      [requestId, seq, state, now],
    );
  }

  /** Delivery gave up on the run: its remaining rows will not be tried again. */
  async failPendingOutbox(requestId: string, now: number): Promise<number> {
    const rows = await this.sql.query(
      `update forge_outbox set state = 'failed', settled_at = $2 where request_id = $1 and state = 'pending' returning seq`,
      [requestId, now],
    );
    return rows.length;
  }

  /** Gives up holding a finished run once nothing is left to deliver. True when released. */
  async release(requestId: string, owner: string): Promise<boolean> {
    const rows = await this.sql.query(
      `update forge_runs set owner = null, lease_until = null
       where request_id = $1 and owner = $2 and finished_at is not null
         and not exists (select 1 from forge_outbox o where o.request_id = $1 and o.state = 'pending')
       returning request_id`,
      [requestId, owner],
    );
    return rows.length > 0;
  }

  /** On shutdown: lets any other instance take over what this one holds at once. */
  async expireLeases(owner: string): Promise<void> {
    await this.sql.query('update forge_runs set lease_until = 0 where owner = $1', [owner]);
    await this.sql.query('delete from forge_instances where instance_id = $1', [owner]);
  }

  /**
   * Retention: deletes settled runs (and their events and outbox rows) finished before
   * `finishedBefore`, then the oldest settled runs until at most `maxEvents` events are kept.
   */
  async sweep(options: { finishedBefore: number; maxEvents: number }): Promise<{ runs: number }> {
    const old = await this.#deleteRuns(
      `select request_id from forge_runs where finished_at < $1 and owner is null`,
      options.finishedBefore,
    );
    const big = await this.#deleteRuns(
      `select request_id from (
         select request_id, sum(event_count) over (order by finished_at desc, request_id) as kept
         from forge_runs where finished_at is not null and owner is null) t
       where kept > $1`,
      options.maxEvents,
    );
    return { runs: old + big };
  }

  /** Deletes the runs `select` names, with their events and outbox rows, in one statement. */
  async #deleteRuns(select: string, param: number): Promise<number> {
    const rows = await this.sql.query(
      `with gone as (delete from forge_runs where request_id in (${select}) returning request_id),
         events as (delete from forge_event_chunks where request_id in (select request_id from gone)),
         outbox as (delete from forge_outbox where request_id in (select request_id from gone))
       select request_id from gone`,
      [param],
    );
    return rows.length;
  }
}
