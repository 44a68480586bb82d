import { describe, expect, it } from 'vitest';
import { migrate } from './migrations.js';
import { pgliteClient } from './pglite-client.js';
import { ReplicaAddresses } from './replica-addresses.js';

describe('ReplicaAddresses', () => {
  it("names the live instance holding an agent's link, with its address; never this one, a dead one or one without an address", {
    timeout: 120_000,
  }, async () => {
    const sql = await pgliteClient();
    try {
      await migrate(sql);
      let now = 100_000;
      const on = (instanceId: string) =>
        new ReplicaAddresses(sql, { instanceId, staleAfterMs: 15_000, now: () => now });
      const heartbeat = (id: string, at: number) =>
        sql.query(
          `insert into forge_instances (instance_id, started_at, heartbeat_at) values ($1, $2, $2)
           on conflict (instance_id) do update set heartbeat_at = excluded.heartbeat_at`,
          [id, at],
        );
      const held = (agentId: string, name: string, instanceId: string | null) =>
        sql.query(
          `insert into forge_remote_agents (agent_id, name, credential_hash, enrolled_at, instance_id) values ($1, $2, 'h', 1, $3)`,
          [agentId, name, instanceId],
        );
      await heartbeat('a', now);
      await heartbeat('b', now);
      await held('ra_1', 'laptop-1', 'a');
      await held('ra_2', 'laptop-2', null);
      const a = on('a');
      const b = on('b');
      // A holds ra_1 but published no address yet: nowhere to relay to.
      expect(await b.holderOf('ra_1')).toBeUndefined();
      await a.publish('http://10.0.0.1:8080');
      expect(await b.holderOf('ra_1')).toEqual({ instanceId: 'a', url: 'http://10.0.0.1:8080' });
      await a.publish('http://10.0.0.9:8080');
      expect(await b.holderOf('ra_1')).toEqual({ instanceId: 'a', url: 'http://10.0.0.9:8080' });
      // Asked on the holder itself, an agent no one holds, an unknown agent: nothing.
      expect(await a.holderOf('ra_1')).toBeUndefined();
      expect(await b.holderOf('ra_2')).toBeUndefined();
      expect(await b.holderOf('ra_9')).toBeUndefined();
      // The holder's heartbeat went stale: it is taken for dead.
      now += 16_000;
      await heartbeat('b', now);
      expect(await b.holderOf('ra_1')).toBeUndefined();
      await heartbeat('a', now);
      expect(await b.holderOf('ra_1')).toMatchObject({ instanceId: 'a' });
      // Stopped: the address is withdrawn.
      await a.withdraw();
      expect(await b.holderOf('ra_1')).toBeUndefined();
    } finally {
      await sql.close();
    }
  });
});
