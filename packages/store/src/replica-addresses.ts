import type { Sql } from './sql.js';

export interface ReplicaAddressesOptions {
  /** This instance's id in forge_instances (RunManager.instanceId). */
  instanceId: string;
  /** An instance whose heartbeat is older than this is taken for dead (the platform's lease length). */
  staleAfterMs: number;
  now?: () => number;
}

/** The instance holding a remote agent's dial-home link, and where the other replicas reach it. */
export interface LinkHolder {
  instanceId: string;
  url: string;
}

/**
 * Where each platform instance takes connections relayed from the other replicas (migration 22), and which
 * instance holds a remote agent's link (its row in forge_remote_agents, migration 4). An attach received by a
 * replica that does not hold the agent's link is relayed to the one that does.
 */
export class ReplicaAddresses {
  readonly #now: () => number;

  constructor(
    private readonly sql: Sql,
    private readonly options: ReplicaAddressesOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** Records (or replaces) this instance's address. */
  async publish(url: string): Promise<void> {
    await this.sql.query(
      `insert into forge_replica_addresses (instance_id, url, updated_at) values ($1, $2, $3)
       on conflict (instance_id) do update set url = excluded.url, updated_at = excluded.updated_at`,
      [this.options.instanceId, url, this.#now()],
    );
  }

  /** Removes this instance's address (it is stopping). */
  async withdraw(): Promise<void> {
    await this.sql.query('delete from forge_replica_addresses where instance_id = $1', [this.options.instanceId]);
  }

  /**
   * The live instance other than this one holding `remoteAgentId`'s link, with its address; undefined when this
   * instance holds it, no live instance does, or the holder published no address.
   */
  async holderOf(remoteAgentId: string): Promise<LinkHolder | undefined> {
    const rows = await this.sql.query<{ instance_id: string; url: string }>(
      `select a.instance_id, r.url
         from forge_remote_agents a
         join forge_instances i on i.instance_id = a.instance_id
         join forge_replica_addresses r on r.instance_id = a.instance_id
        where a.agent_id = $1 and a.revoked_at is null and a.instance_id <> $2 and i.heartbeat_at >= $3`,
      [remoteAgentId, this.options.instanceId, this.#now() - this.options.staleAfterMs],
    );
    const row = rows[0];
    return row ? { instanceId: row.instance_id, url: row.url } : undefined;
  }
}
