import { ForgeError } from '@forge/core';
import { OPERATOR_MIGRATIONS } from './operator-migrations.js';
import { REPLICA_MIGRATIONS } from './replica-migrations.js';
import type { SqlClient } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, one numbered step at a time; a released step is never edited, only followed by
 * another. Times are epoch milliseconds in double precision (exact to 2^53) so both engines return
 * plain numbers.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, journal, outbox, seen webhooks, remote agents, instances',
    sql: `
create table forge_runs (
  request_id text primary key,
  position bigint generated always as identity,
  user_id text not null,
  agent_id text not null,
  status text not null check (status in ('queued', 'running', 'completed', 'failed', 'cancelled', 'timed_out')),
  request jsonb not null,
  webhook jsonb,
  result jsonb,
  error jsonb,
  owner text,
  lease_until double precision,
  cancel_requested boolean not null default false,
  event_count integer not null default 0,
  created_at double precision not null,
  started_at double precision,
  finished_at double precision
);
create index forge_runs_agent on forge_runs (user_id, agent_id, position);
create index forge_runs_queued on forge_runs (position) where status = 'queued';
-- One run at a time per agent, whatever the replicas do.
create unique index forge_runs_one_running on forge_runs (user_id, agent_id) where status = 'running';
create index forge_runs_owner on forge_runs (owner, lease_until) where owner is not null;
create index forge_runs_finished on forge_runs (finished_at) where finished_at is not null;

-- No foreign keys on the journal and the outbox: a per-row RI check costs more than the insert
-- itself; rows go with their run through RunStore.sweep.
create table forge_events (
  request_id text not null,
  seq integer not null,
  type text not null,
  time double precision not null,
  body text not null,
  primary key (request_id, seq)
);

create table forge_outbox (
  request_id text not null,
  seq integer not null,
  webhook_id text not null unique,
  is_final boolean not null,
  state text not null default 'pending' check (state in ('pending', 'delivered', 'rejected', 'failed')),
  settled_at double precision,
  primary key (request_id, seq)
);
create index forge_outbox_pending on forge_outbox (request_id, seq) where state = 'pending';

create table forge_seen_webhooks (
  webhook_id text primary key,
  expires_at double precision not null
);
create index forge_seen_webhooks_expiry on forge_seen_webhooks (expires_at);

create table forge_remote_agents (
  agent_id text primary key,
  name text not null,
  credential_hash text not null,
  status text not null default 'active' check (status in ('active', 'revoked')),
  enrolled_at double precision not null,
  revoked_at double precision,
  provider text,
  version text,
  last_seen double precision
);

create table forge_enrolment_tokens (
  token_id text primary key,
  expires_at double precision not null,
  spent_at double precision not null
);

create table forge_instances (
  instance_id text primary key,
  started_at double precision not null,
  heartbeat_at double precision not null
);
`,
  },
  {
    version: 2,
    name: 'journal in chunks: one row per committed batch',
    // A row per event cost PGlite ~9 µs an event (tuple, index entry, array parsing); a batch
    // as one row of newline-joined JSON costs a fifth of that. Seqs of a run are contiguous,
    // so a chunk is (first_seq, last_seq) and its events are found by position.
    sql: `
create table forge_event_chunks (
  request_id text not null,
  first_seq integer not null,
  last_seq integer not null,
  -- one entry per event, joined: types and bodies by newline (JSON has none raw), times by comma
  types text not null,
  times text not null,
  bodies text not null,
  primary key (request_id, first_seq),
  check (last_seq >= first_seq)
);
insert into forge_event_chunks (request_id, first_seq, last_seq, types, times, bodies)
  select request_id, seq, seq, type, time::text, body from forge_events;
drop table forge_events;
`,
  },
  {
    version: 3,
    name: 'run commands: permission replies and question answers relayed to the replica running the run',
    sql: `
-- A reply received by one replica for a run another executes: the owner applies it and writes
-- the outcome (the HTTP status and body it would have answered); the receiver waits for it, then
-- deletes the row. Rows a dead receiver left behind are swept by age.
create table forge_run_commands (
  id bigint generated always as identity primary key,
  request_id text not null,
  owner text not null,
  kind text not null check (kind in ('permission', 'question')),
  target_id text not null,
  payload jsonb not null,
  state text not null default 'pending' check (state in ('pending', 'applying', 'done', 'refused')),
  outcome jsonb,
  created_at double precision not null,
  settled_at double precision
);
create index forge_run_commands_pending on forge_run_commands (owner, id) where state = 'pending';
create index forge_run_commands_created on forge_run_commands (created_at);
`,
  },
  {
    version: 4,
    name: 'remote agent presence: the instance holding each session; runs placed next to their remote agent',
    sql: `
-- Which platform instance holds the agent's dial-home session (none: offline), which session (a
-- newer one replaces it), since when. Online for every replica while that instance's heartbeat
-- in forge_instances is fresh.
alter table forge_remote_agents add column instance_id text;
alter table forge_remote_agents add column session_id text;
alter table forge_remote_agents add column online_since double precision;
create index forge_remote_agents_instance on forge_remote_agents (instance_id) where instance_id is not null;
-- A run for a remote agent is claimed only by the instance holding its session (see RunStore.claimNext).
alter table forge_runs add column remote_agent_id text;
`,
  },
  {
    version: 5,
    name: 'JSON as text: a NUL or an unpaired surrogate in a model answer no longer fails the write',
    // jsonb refuses \u0000 and an unpaired surrogate escape such as \ud800 (both valid JSON, both
    // in model answers), which failed a run's final write and left it running for good. The JSON
    // text JSON.stringify writes holds neither raw, so text columns keep it exactly. Nothing
    // queries inside these columns.
    sql: `
alter table forge_runs
  alter column request type text using request::text,
  alter column webhook type text using webhook::text,
  alter column result type text using result::text,
  alter column error type text using error::text;
alter table forge_run_commands
  alter column payload type text using payload::text,
  alter column outcome type text using outcome::text;
`,
  },
  {
    version: 6,
    name: 'one live remote agent per name, whatever the replicas do',
    // The hub checks a name is free one enrolment at a time, but only within its process: two
    // replicas could enrol one name together. Agents a race already enrolled twice keep the name
    // for the first enrolled; the later ones are revoked (refused at their next message), since
    // the index cannot be built over them.
    sql: `
update forge_remote_agents a
  set status = 'revoked', revoked_at = extract(epoch from clock_timestamp()) * 1000
  where a.revoked_at is null
    and exists (select 1 from forge_remote_agents b
                where b.name = a.name and b.revoked_at is null
                  and (b.enrolled_at, b.agent_id) < (a.enrolled_at, a.agent_id));
create unique index forge_remote_agents_live_name on forge_remote_agents (name) where revoked_at is null;
`,
  },
  {
    version: 7,
    name: "sessions: the agent programs' session files, so a conversation outlives the machine that ran it",
    // A session's files are stored as gzip chunks: an append (what a turn added to a JSONL file) is one
    // new row, so saving a turn costs the turn's bytes, not the session's length. Chunks of one file are
    // folded into one now and then (sqlSessionStore), which keeps a load to a few rows.
    sql: `
create table forge_sessions (
  provider text not null,
  session_id text not null,
  cwd text,
  title text,
  created_at double precision not null,
  updated_at double precision not null,
  size bigint not null,
  primary key (provider, session_id)
);
create index forge_sessions_updated on forge_sessions (updated_at desc);
create table forge_session_chunks (
  provider text not null,
  session_id text not null,
  path text not null,
  seq integer not null,
  raw_length integer not null,
  data bytea not null,
  primary key (provider, session_id, path, seq),
  foreign key (provider, session_id) references forge_sessions (provider, session_id) on delete cascade
);
`,
  },
  {
    version: 8,
    name: 'run commands also relay steering messages to the replica running the run',
    sql: `
alter table forge_run_commands drop constraint forge_run_commands_kind_check;
alter table forge_run_commands add constraint forge_run_commands_kind_check
  check (kind in ('permission', 'question', 'steer'));
`,
  },
  {
    version: 9,
    name: 'agent settings: run defaults an agent was created with (approvals, budget, MCP servers…)',
    sql: `
-- What POST /api/v1/agents was given beyond the provider, as the API took it (JSON text); a message
-- overrides it field by field. Kept here, not by the backend, so every replica reads the same.
create table forge_agent_settings (
  user_id text not null,
  agent_id text not null,
  settings text not null,
  updated_at double precision not null,
  primary key (user_id, agent_id)
);
`,
  },
  {
    version: 10,
    name: 'per API key spend: cost and tokens per key and day, and the key that sent each run',
    sql: `
-- Added to atomically as a run's usage is journaled, by whichever replica runs it, so every replica
-- reads the same figure. The day is the UTC date (YYYY-MM-DD); the key is its SHA-256 in hex.
create table forge_key_spend (
  key_id text not null,
  day text not null,
  cost_usd double precision not null default 0,
  tokens double precision not null default 0,
  primary key (key_id, day)
);
alter table forge_runs add column key_id text;
`,
  },
  {
    version: 11,
    name: 'run usage: tokens, cost and duration of each finished run, for usage reports',
    sql: `
-- One row per finished run, written in the statement that ends it (by whichever replica ends it), from
-- the figures the run's spend meter added to forge_key_spend, so usage and spend agree. Kept apart
-- from forge_runs so that run retention (which deletes runs and their journals) leaves usage alone.
create table forge_run_usage (
  request_id text primary key,
  user_id text not null,
  agent_id text not null,
  key_id text,
  provider text not null,
  status text not null,
  finished_at double precision not null,
  duration_ms double precision not null default 0,
  tokens_in double precision not null default 0,
  tokens_out double precision not null default 0,
  cost_usd double precision not null default 0
);
create index forge_run_usage_user on forge_run_usage (user_id, finished_at);
create index forge_run_usage_finished on forge_run_usage (finished_at);
`,
  },
  {
    version: 15,
    name: 'parked agents: k8s agents whose pod was removed while idle, recreated at their next message',
    sql: `
-- The k8s backend knows its agents from their pods; an idle agent's pod is removed (FORGE_K8S_IDLE_TTL)
-- and the agent kept here, with what its next pod is made from, until a message makes that pod.
create table forge_parked_agents (
  user_id text not null,
  agent_id text not null,
  provider text not null,
  image text,
  created_at double precision not null,
  parked_at double precision not null,
  primary key (user_id, agent_id)
);
`,
  },
  {
    version: 16,
    name: 'runs handed over by a stopping replica, for another to adopt rather than end',
    sql: `
-- Set (to the time) by a draining instance that let go of a run still going at its agent (a pod, a
-- remote agent): the next holder re-attaches to it from its last journaled event instead of ending it
-- PLATFORM_RESTARTED. Cleared once adopted. Heartbeats do not renew a handed-over run's lease.
alter table forge_runs add column handed_over_at double precision;
`,
  },
  ...OPERATOR_MIGRATIONS,
  ...REPLICA_MIGRATIONS,
  // In version order, whatever order they are written in above (the operator tables' are kept in their own file).
].sort((a, b) => a.version - b.version);

// Any constant will do; it only has to be the same in every replica.
const MIGRATION_LOCK = 0x0f09e5;

/**
 * Brings the schema up to the newest migration, each step in the one transaction, under an
 * advisory lock so replicas starting together migrate once. Returns the versions it applied.
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(
      'create table if not exists forge_schema_migrations (version integer primary key, name text not null, applied_at double precision not null)',
    );
    const done = new Set(
      (await tx.query<{ version: number }>('select version from forge_schema_migrations')).map((r) => r.version),
    );
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const ahead = [...done].filter((v) => v > newest);
    if (ahead.length)
      throw new ForgeError(
        'STORE_SCHEMA_TOO_NEW',
        `The database has schema version ${Math.max(...ahead)}, newer than this program knows (${newest}); run a newer platform`,
        'conflict',
      );
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('insert into forge_schema_migrations (version, name, applied_at) values ($1, $2, $3)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      applied.push(m.version);
    }
    return applied;
  });
}
