import { fromJsonColumn } from './json-column.js';
import type { Row, SqlClient } from './sql.js';

/** A permission reply, a question answer, or a steering message (`run.steer`; its target is the run). */
export type RunCommandKind = 'permission' | 'question' | 'steer';

/**
 * `pending` → `applying` (the owner took it) → `done` (outcome written); or `pending` → `refused`
 * (the sender withdrew it: timed out, gave up, or saw the run end). Only a pending command can be
 * withdrawn and only a pending one taken, so a command is applied at most once and a sender that
 * withdrew one knows it was never applied.
 */
export type RunCommandState = 'pending' | 'applying' | 'done' | 'refused';

/** What a command came to: the status and body the instance that applied it would have answered over HTTP. */
export interface RunCommandOutcome {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface RunCommand {
  id: number;
  requestId: string;
  /** The instance executing the run when the command was sent: the only one that takes it. */
  owner: string;
  kind: RunCommandKind;
  /** The permission or question id; for `steer`, the run's request id. */
  targetId: string;
  payload: Record<string, unknown>;
  state: RunCommandState;
  outcome?: RunCommandOutcome;
  createdAt: number;
  settledAt?: number;
}

export interface NewRunCommand {
  requestId: string;
  owner: string;
  kind: RunCommandKind;
  targetId: string;
  payload: Record<string, unknown>;
  now: number;
}

/** NOTIFY channel of new commands; the payload is the owner's instance id. */
export const RUN_COMMAND_SENT = 'forge_run_command_sent';
/** NOTIFY channel of settled commands; the payload is the command id. */
export const RUN_COMMAND_SETTLED = 'forge_run_command_settled';

function toCommand(row: Row): RunCommand {
  const c: RunCommand = {
    id: Number(row.id),
    requestId: row.request_id as string,
    owner: row.owner as string,
    kind: row.kind as RunCommandKind,
    targetId: row.target_id as string,
    payload: fromJsonColumn<Record<string, unknown>>(row.payload) ?? {},
    state: row.state as RunCommandState,
    createdAt: Number(row.created_at),
  };
  const outcome = fromJsonColumn<RunCommandOutcome>(row.outcome);
  if (outcome) c.outcome = outcome;
  if (row.settled_at !== null && row.settled_at !== undefined) c.settledAt = Number(row.settled_at);
  return c;
}

/**
 * Commands for a run executing on another instance (permission replies, question answers): the
 * instance that received the reply sends one and waits for its outcome; the owner takes it,
 * applies it as if the reply had come to it, and writes the outcome. NOTIFY wakes both sides at
 * once where the engine has LISTEN; the rows are the truth, so polling them is always enough.
 */
export class RunCommands {
  constructor(readonly sql: SqlClient) {}

  /** Stores a command for `owner` and notifies it (the NOTIFY is sent when the insert commits). */
  async send(input: NewRunCommand): Promise<RunCommand> {
    const [row] = await this.sql.query(
      `with c as (
         insert into forge_run_commands (request_id, owner, kind, target_id, payload, created_at)
         values ($1, $2, $3, $4, $5::text, $6) returning *)
       select c.*, pg_notify($7, c.owner) from c`,
      [
        input.requestId,
        input.owner,
        input.kind,
        input.targetId,
        JSON.stringify(input.payload),
        input.now,
        RUN_COMMAND_SENT,
      ],
    );
    return toCommand(row!);
  }

  /**
   * Sends a command to the instance executing the agent's running run, when that is another instance than
   * `except`: the run looked up and the command stored (and notified) in one statement. Undefined when the
   * agent runs nothing, or runs it on `except` itself.
   */
  async sendToRunOf(
    input: Omit<NewRunCommand, 'requestId' | 'owner'> & { userId: string; agentId: string; except: string },
  ): Promise<RunCommand | undefined> {
    const [row] = await this.sql.query(
      `with r as (
         select request_id, owner from forge_runs
         where user_id = $1 and agent_id = $2 and status = 'running' and owner is not null and owner <> $3
         limit 1),
       c as (
         insert into forge_run_commands (request_id, owner, kind, target_id, payload, created_at)
         select r.request_id, r.owner, $4, $5, $6::text, $7 from r returning *)
       select c.*, pg_notify($8, c.owner) from c`,
      [
        input.userId,
        input.agentId,
        input.except,
        input.kind,
        input.targetId,
        JSON.stringify(input.payload),
        input.now,
        RUN_COMMAND_SENT,
      ],
    );
    return row ? toCommand(row) : undefined;
  }

  /**
   * Takes `owner`'s pending commands, oldest first (they become `applying`). SKIP LOCKED: two
   * passes of one owner racing never take the same command.
   */
  async take(owner: string, limit = 100): Promise<RunCommand[]> {
    const rows = await this.sql.query(
      `update forge_run_commands c set state = 'applying'
       from (select id from forge_run_commands where owner = $1 and state = 'pending'
             order by id limit $2 for update skip locked) t
       where c.id = t.id
       returning c.*`,
      [owner, limit],
    );
    return rows.map(toCommand).sort((a, b) => a.id - b.id);
  }

  /** Writes the outcome of a command being applied and notifies its sender. False when it is gone or not taken. */
  async settle(id: number, outcome: RunCommandOutcome, now: number): Promise<boolean> {
    const rows = await this.sql.query(
      `with c as (
         update forge_run_commands set state = 'done', outcome = $2::text, settled_at = $3
         where id = $1 and state = 'applying' returning id)
       select c.id, pg_notify($4, c.id::text) from c`,
      [id, JSON.stringify(outcome), now, RUN_COMMAND_SETTLED],
    );
    return rows.length > 0;
  }

  /**
   * Writes the outcomes of several commands being applied in one statement (a wake-up's worth of
   * relayed replies) and notifies their senders. Returns the ids settled (not those gone or not taken).
   */
  async settleMany(
    outcomes: ReadonlyArray<{ id: number; outcome: RunCommandOutcome }>,
    now: number,
  ): Promise<number[]> {
    if (!outcomes.length) return [];
    if (outcomes.length === 1) {
      const [{ id, outcome }] = outcomes as [{ id: number; outcome: RunCommandOutcome }];
      return (await this.settle(id, outcome, now)) ? [id] : [];
    }
    const rows = await this.sql.query<{ id: unknown }>(
      `with v as (select * from json_to_recordset($1::json) as v(id bigint, outcome text)),
       c as (
         update forge_run_commands f set state = 'done', outcome = v.outcome, settled_at = $2
         from v where f.id = v.id and f.state = 'applying' returning f.id)
       select c.id, pg_notify($3, c.id::text) from c`,
      [
        JSON.stringify(outcomes.map((o) => ({ id: o.id, outcome: JSON.stringify(o.outcome) }))),
        now,
        RUN_COMMAND_SETTLED,
      ],
    );
    return rows.map((r) => Number(r.id));
  }

  /**
   * The outcome of a settled (done or refused) command, removing it: what its sender does once it
   * is woken, in one round trip. Undefined while it is still pending or being applied (or gone).
   */
  async consume(id: number): Promise<RunCommand | undefined> {
    const [row] = await this.sql.query(
      `delete from forge_run_commands where id = $1 and state in ('done', 'refused') returning *`,
      [id],
    );
    return row ? toCommand(row) : undefined;
  }

  /**
   * Withdraws a command nobody has taken yet, recording why. False when the owner took it first
   * (it is being applied, or done): the sender then waits for that outcome instead.
   */
  async withdraw(id: number, outcome: RunCommandOutcome, now: number): Promise<boolean> {
    const rows = await this.sql.query(
      `update forge_run_commands set state = 'refused', outcome = $2::text, settled_at = $3
       where id = $1 and state = 'pending' returning id`,
      [id, JSON.stringify(outcome), now],
    );
    return rows.length > 0;
  }

  async get(id: number): Promise<RunCommand | undefined> {
    const [row] = await this.sql.query('select * from forge_run_commands where id = $1', [id]);
    return row ? toCommand(row) : undefined;
  }

  /** The sender is done with it (it read the outcome, or gave up). */
  async remove(id: number): Promise<void> {
    await this.sql.query('delete from forge_run_commands where id = $1', [id]);
  }

  /** Deletes commands created before `createdBefore`, whatever their state: their senders stopped waiting long ago. */
  async sweep(createdBefore: number): Promise<number> {
    const rows = await this.sql.query('delete from forge_run_commands where created_at < $1 returning id', [
      createdBefore,
    ]);
    return rows.length;
  }

  /**
   * Calls `onSent` when a command is sent to `owner`. Undefined when the engine cannot listen
   * (the owner then only finds commands by polling `take`).
   */
  async onSent(owner: string, onSent: () => void): Promise<(() => Promise<void>) | undefined> {
    return this.sql.listen?.(RUN_COMMAND_SENT, (payload) => {
      if (payload === owner) onSent();
    });
  }

  /** Calls `onSettled` with the id of every command settled (by any instance). Undefined when the engine cannot listen. */
  async onSettled(onSettled: (id: number) => void): Promise<(() => Promise<void>) | undefined> {
    return this.sql.listen?.(RUN_COMMAND_SETTLED, (payload) => onSettled(Number(payload)));
  }
}
