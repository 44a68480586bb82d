import { ForgeError } from '@forge/core';
import { DialHomeCodes, type AgentRecord, type CredentialStore } from '@forge/dial-home';
import type { Row, Sql, SqlClient } from './sql.js';

/** The partial unique index of migration 6: one live (not revoked) agent per name. */
const LIVE_NAME_INDEX = 'forge_remote_agents_live_name';

/** The refusal the hub gives a second enrolment under a live name, whichever replica wrote the first. */
function nameTaken(name: string, cause: unknown): ForgeError {
  return new ForgeError(DialHomeCodes.NAME_TAKEN, `Agent "${name}" is enrolled already`, 'conflict', {
    cause,
    details: { name },
  });
}

function isLiveNameConflict(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown; constraint_name?: unknown; message?: unknown };
  if (e?.code !== '23505') return false;
  const constraint = e.constraint_name ?? e.constraint;
  return constraint === LIVE_NAME_INDEX || (constraint === undefined && String(e.message).includes(LIVE_NAME_INDEX));
}

function toAgent(row: Row): AgentRecord {
  const r: AgentRecord = {
    agentId: row.agent_id as string,
    name: row.name as string,
    credentialHash: row.credential_hash as string,
    enrolledAt: Number(row.enrolled_at),
  };
  if (row.revoked_at !== null && row.revoked_at !== undefined) r.revokedAt = Number(row.revoked_at);
  if (row.provider) r.provider = row.provider as string;
  if (row.version) r.version = row.version as string;
  if (row.last_seen !== null && row.last_seen !== undefined) r.lastSeen = Number(row.last_seen);
  return r;
}

/** Creates or replaces the record; NAME_TAKEN (a ForgeError, `conflict`) when another live agent holds its name. */
async function write(sql: Sql, r: AgentRecord): Promise<void> {
  try {
    await upsert(sql, r);
  } catch (error) {
    throw isLiveNameConflict(error) ? nameTaken(r.name, error) : error;
  }
}

async function upsert(sql: Sql, r: AgentRecord): Promise<void> {
  await sql.query(
    `insert into forge_remote_agents
         (agent_id, name, credential_hash, status, enrolled_at, revoked_at, provider, version, last_seen)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (agent_id) do update set name = excluded.name, credential_hash = excluded.credential_hash,
         status = excluded.status, enrolled_at = excluded.enrolled_at, revoked_at = excluded.revoked_at,
         provider = excluded.provider, version = excluded.version, last_seen = excluded.last_seen`,
    [
      r.agentId,
      r.name,
      r.credentialHash,
      r.revokedAt === undefined ? 'active' : 'revoked',
      r.enrolledAt,
      r.revokedAt ?? null,
      r.provider ?? null,
      r.version ?? null,
      r.lastSeen ?? null,
    ],
  );
}

/** Marks an enrolment token spent; false when it was already (forgetting expired ones first). */
async function spend(tx: Sql, tokenId: string, expiresAt: number, now: number): Promise<boolean> {
  await tx.query('delete from forge_enrolment_tokens where expires_at <= $1', [now]);
  const rows = await tx.query(
    `insert into forge_enrolment_tokens (token_id, expires_at, spent_at) values ($1, $2, $3)
     on conflict (token_id) do nothing returning token_id`,
    [tokenId, expiresAt, now],
  );
  return rows.length > 0;
}

/**
 * Dial-home's CredentialStore in the platform's database, so every replica sees the same enrolled
 * agents and a revocation written by one is refused by all at the agent's next message. Spent
 * enrolment tokens are rows: a primary-key insert is the atomic single use. One live agent per name
 * is a unique index (migration 6), so two replicas enrolling one name together cannot both win:
 * the loser's `put` is refused with DialHomeCodes.NAME_TAKEN, as the hub refuses a name it sees taken,
 * and its `enrol` is `name-taken` with its token left unspent.
 */
export function sqlCredentialStore(sql: SqlClient): CredentialStore {
  return {
    async get(agentId) {
      const [row] = await sql.query('select * from forge_remote_agents where agent_id = $1', [agentId]);
      return row ? toAgent(row) : undefined;
    },
    put: (r) => write(sql, r),
    async update(agentId, change) {
      // The row stays locked from read to write, so a revocation another replica writes meanwhile is never
      // overwritten by a copy read before it (the hub updates last seen and provider this way).
      return sql.transaction(async (tx) => {
        const [row] = await tx.query('select * from forge_remote_agents where agent_id = $1 for update', [agentId]);
        if (!row) return undefined;
        const next = change(toAgent(row));
        await write(tx, next);
        return next;
      });
    },
    async list() {
      return (await sql.query('select * from forge_remote_agents order by enrolled_at, agent_id')).map(toAgent);
    },
    consumeToken: (tokenId, expiresAt, now) => sql.transaction((tx) => spend(tx, tokenId, expiresAt, now)),
    async enrol(record, token, now) {
      try {
        // The token and the agent commit together or not at all: a name lost to another replica
        // rolls the token back too, so the loser may use it again under another name.
        return await sql.transaction(async (tx) => {
          if (!(await spend(tx, token.id, token.expiresAt, now))) return 'token-used';
          await write(tx, record);
          return 'enrolled';
        });
      } catch (error) {
        if (error instanceof ForgeError && error.code === DialHomeCodes.NAME_TAKEN) return 'name-taken';
        throw error;
      }
    },
  };
}
