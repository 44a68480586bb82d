import type { Migration } from './migrations.js';

/** Where each platform instance can be reached by the others (attach relayed to the replica holding a link). */
export const REPLICA_MIGRATIONS: readonly Migration[] = [
  {
    version: 22,
    name: 'replica addresses: where each instance takes relayed attach connections from the others',
    sql: `
-- Written by an instance once it listens, removed when it stops. An address is used only while the instance's
-- heartbeat in forge_instances is fresh, so a crashed instance's row is harmless until it is overwritten.
create table forge_replica_addresses (
  instance_id text primary key,
  url text not null,
  updated_at double precision not null
);
`,
  },
];
