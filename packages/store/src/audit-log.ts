import type { Row, Sql } from './sql.js';

/** One audit entry: who (a user and the key they used) did what to what, when. */
export interface AuditEntry {
  id: number;
  /** Epoch ms. */
  at: number;
  actor: { userId?: string; keyId?: string };
  action: string;
  /** What it was done to: an agent, a key, a run… */
  target?: string;
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { at?: number };

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  action?: string;
  userId?: string;
  /** Entries with an id below this one (the previous page's last). */
  before?: number;
  limit: number;
}

function toEntry(row: Row): AuditEntry {
  const actor: AuditEntry['actor'] = {};
  if (row.user_id !== null && row.user_id !== undefined) actor.userId = String(row.user_id);
  if (row.key_id !== null && row.key_id !== undefined) actor.keyId = String(row.key_id);
  return {
    id: Number(row.id),
    at: Number(row.at),
    actor,
    action: String(row.action),
    ...(row.target !== null && row.target !== undefined ? { target: String(row.target) } : {}),
    details: JSON.parse(String(row.details)) as Record<string, unknown>,
  };
}

/**
 * The append-only audit log: entries are added and read, never changed (the table refuses updates); only
 * retention removes old ones.
 */
export class AuditLog {
  constructor(private readonly sql: Sql) {}

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const [row] = await this.sql.query(
      `insert into forge_audit (at, user_id, key_id, action, target, details)
       values ($1, $2, $3, $4, $5, $6) returning *`,
      [
        entry.at ?? Date.now(),
        entry.actor.userId ?? null,
        entry.actor.keyId ?? null,
        entry.action,
        entry.target ?? null,
        JSON.stringify(entry.details),
      ],
    );
    return toEntry(row!);
  }

  /** Entries newest first, filtered. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.sql.query(
      `select * from forge_audit
       where ($1::float8 is null or at >= $1) and ($2::float8 is null or at < $2)
         and ($3::text is null or action = $3) and ($4::text is null or user_id = $4)
         and ($5::bigint is null or id < $5)
       order by id desc limit $6`,
      [q.since ?? null, q.until ?? null, q.action ?? null, q.userId ?? null, q.before ?? null, q.limit],
    );
    return rows.map(toEntry);
  }

  /** Retention: removes entries older than `before` (epoch ms). */
  async sweep(before: number): Promise<number> {
    return (await this.sql.query('delete from forge_audit where at < $1 returning id', [before])).length;
  }
}
