import type { AgentPresence, PresenceRecord, SessionVerdict } from '@forge/dial-home';
import { QUEUE_CHANNEL } from './notify-channels.js';
import type { SqlClient } from './sql.js';

export interface SqlAgentPresenceOptions {
  /**
   * The platform instance this hub runs in: the id its RunStore heartbeats under in
   * forge_instances (RunManager.instanceId), so runs for the agents it holds are claimed by it.
   */
  instanceId: string;
  /**
   * A holder whose instance heartbeat is older than this is taken for dead, and its agents for
   * offline: the platform's lease length, the rule RunStore applies to runs.
   */
  staleAfterMs: number;
  now?: () => number;
}

export interface SqlAgentPresence extends AgentPresence {
  /**
   * Clears the sessions recorded under this instance id by a previous life of it (a stable
   * FORGE_INSTANCE_ID restarted after a crash): it holds none of them now. Call before the hub serves.
   */
  forgetPrevious(): Promise<number>;
}

/**
 * Dial-home presence in the platform's database, on the agent's own row in forge_remote_agents
 * (migration 4): the instance and session holding it, online since, last seen. Every replica
 * lists the same status from it, and a crashed replica's agents turn offline once its instance
 * heartbeat is stale. Last-seen writes come only from `sync` (the hub calls it every
 * presenceSyncMs with all its sessions: one statement, and only rows whose time moved), never per
 * heartbeat. The same row carries the revocation, so `sync` also tells the hub which of its
 * sessions another replica revoked.
 */
export function sqlAgentPresence(sql: SqlClient, options: SqlAgentPresenceOptions): SqlAgentPresence {
  const { instanceId, staleAfterMs } = options;
  const now = options.now ?? Date.now;
  return {
    async open(s) {
      // Its queued runs are now this instance's to claim: wake the queue (here too: the payload names no one).
      await sql.query(
        `with opened as (
           update forge_remote_agents
           set instance_id = $2, session_id = $3, online_since = $4, last_seen = greatest(coalesce(last_seen, 0), $5)
           where agent_id = $1 returning agent_id)
         select pg_notify('${QUEUE_CHANNEL}', '') from opened`,
        [s.agentId, instanceId, s.sessionId, s.since, s.lastSeen],
      );
    },
    async close(s) {
      // Only this session's record: a newer session on another replica may hold the agent already.
      await sql.query(
        `update forge_remote_agents
         set instance_id = null, session_id = null, online_since = null,
             last_seen = greatest(coalesce(last_seen, 0), $3)
         where agent_id = $1 and session_id = $2`,
        [s.agentId, s.sessionId, s.lastSeen],
      );
    },
    async sync(held) {
      if (!held.length) return [];
      // The select reads the rows as they were before the update: revoked_at and session_id are what
      // the other replicas wrote, which is all it needs.
      const rows = await sql.query<{
        agent_id: string;
        session_id: string;
        revoked: boolean | null;
        recorded: string | null;
      }>(
        `with h as (select * from unnest($1::text[], $2::text[], $3::float8[]) as h(agent_id, session_id, last_seen)),
           seen as (update forge_remote_agents a set last_seen = h.last_seen
                    from h where a.agent_id = h.agent_id and a.session_id = h.session_id
                      and (a.last_seen is null or a.last_seen < h.last_seen)
                    returning a.agent_id)
         select h.agent_id, h.session_id, a.revoked_at is not null as revoked, a.session_id as recorded
         from h left join forge_remote_agents a on a.agent_id = h.agent_id`,
        [held.map((s) => s.agentId), held.map((s) => s.sessionId), held.map((s) => s.lastSeen)],
      );
      const verdicts: SessionVerdict[] = [];
      for (const r of rows) {
        // A row gone altogether counts as revoked: the credential behind the session no longer exists.
        if (r.revoked !== false) verdicts.push({ agentId: r.agent_id, sessionId: r.session_id, reason: 'revoked' });
        else if (r.recorded !== r.session_id)
          verdicts.push({ agentId: r.agent_id, sessionId: r.session_id, reason: 'replaced' });
      }
      return verdicts;
    },
    async list() {
      const rows = await sql.query(
        `select a.agent_id, a.instance_id, a.online_since, a.last_seen,
                coalesce(i.heartbeat_at >= $1, false) as alive
         from forge_remote_agents a left join forge_instances i on i.instance_id = a.instance_id
         where a.revoked_at is null and (a.instance_id is not null or a.last_seen is not null)`,
        [now() - staleAfterMs],
      );
      const out = new Map<string, PresenceRecord>();
      for (const row of rows) {
        const agentId = row.agent_id as string;
        const online = row.instance_id !== null && row.alive === true;
        const record: PresenceRecord = { agentId, online };
        if (online) {
          record.holder = row.instance_id as string;
          record.since = Number(row.online_since);
        }
        if (row.last_seen !== null) record.lastSeen = Number(row.last_seen);
        out.set(agentId, record);
      }
      return out;
    },
    async forgetPrevious() {
      const rows = await sql.query(
        `update forge_remote_agents set instance_id = null, session_id = null, online_since = null
         where instance_id = $1 returning agent_id`,
        [instanceId],
      );
      return rows.length;
    },
  };
}
