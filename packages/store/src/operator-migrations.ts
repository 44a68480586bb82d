import type { Migration } from './migrations.js';

/**
 * The operator's tables (issue 29): API keys with a lifecycle, rate-limit windows shared by the replicas, and the
 * append-only audit log. Kept beside the run tables' steps so each stays one file; the runner sorts by version.
 */
export const OPERATOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 12,
    name: 'API keys issued over the API: hashed, with expiry, revocation and last use',
    sql: `
-- Only the key's SHA-256 (hex) is kept; the key itself is shown once, when it is issued. A revoked key keeps its
-- row (the listing shows when), and every request reads the row, so a revocation holds on every replica at once.
create table forge_api_keys (
  key_id text primary key,
  user_id text not null,
  key_hash text not null unique,
  admin boolean not null default false,
  created_at double precision not null,
  created_by text,
  expires_at double precision,
  revoked_at double precision,
  last_used_at double precision
);
create index forge_api_keys_created on forge_api_keys (created_at);
`,
  },
  {
    version: 13,
    name: 'rate-limit windows shared by the replicas',
    sql: `
-- One row per limited subject (a key, an address) and fixed window: every request adds one in a single upsert,
-- so replicas counting at once never lose a count. Old windows are swept.
create table forge_rate_windows (
  bucket text not null,
  window_start double precision not null,
  count integer not null,
  primary key (bucket, window_start)
);
create index forge_rate_windows_start on forge_rate_windows (window_start);
`,
  },
  {
    version: 14,
    name: 'append-only audit log',
    sql: `
-- Who did what, when: rows are only ever added (and removed by retention); the trigger refuses any update.
create table forge_audit (
  id bigint generated always as identity primary key,
  at double precision not null,
  user_id text,
  key_id text,
  action text not null,
  target text,
  details text not null
);
create index forge_audit_at on forge_audit (at);
create index forge_audit_action on forge_audit (action, id);
create function forge_audit_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'forge_audit is append-only';
end
$$;
create trigger forge_audit_no_update before update on forge_audit
  for each row execute function forge_audit_append_only();
`,
  },
];
