import type { Row, Sql } from './sql.js';

/** An API key issued over the API, as stored: never the key, only its SHA-256. */
export interface StoredApiKey {
  keyId: string;
  userId: string;
  /** SHA-256 of the key, hex. */
  hash: string;
  admin: boolean;
  createdAt: number;
  /** The user whose key issued it. */
  createdBy?: string;
  expiresAt?: number;
  revokedAt?: number;
  lastUsedAt?: number;
}

export type NewStoredApiKey = Omit<StoredApiKey, 'revokedAt' | 'lastUsedAt'>;

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

function toKey(row: Row): StoredApiKey {
  const key: StoredApiKey = {
    keyId: String(row.key_id),
    userId: String(row.user_id),
    hash: String(row.key_hash),
    admin: row.admin === true,
    createdAt: Number(row.created_at),
  };
  if (row.created_by !== null && row.created_by !== undefined) key.createdBy = String(row.created_by);
  for (const [column, field] of [
    ['expires_at', 'expiresAt'],
    ['revoked_at', 'revokedAt'],
    ['last_used_at', 'lastUsedAt'],
  ] as const) {
    const v = num(row[column]);
    if (v !== undefined) key[field] = v;
  }
  return key;
}

/**
 * API keys issued over the API, shared by every replica. Authentication reads the row on each request (one lookup
 * by the unique hash), so a revocation or an expiry holds everywhere at once, with no cache to invalidate.
 */
export class StoredApiKeys {
  constructor(private readonly sql: Sql) {}

  async insert(key: NewStoredApiKey): Promise<StoredApiKey> {
    const [row] = await this.sql.query(
      `insert into forge_api_keys (key_id, user_id, key_hash, admin, created_at, created_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning *`,
      [key.keyId, key.userId, key.hash, key.admin, key.createdAt, key.createdBy ?? null, key.expiresAt ?? null],
    );
    return toKey(row!);
  }

  /** The key with this hash (hex SHA-256), revoked or expired ones included: the caller decides. */
  async byHash(hash: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.sql.query('select * from forge_api_keys where key_hash = $1', [hash]);
    return row ? toKey(row) : undefined;
  }

  async get(keyId: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.sql.query('select * from forge_api_keys where key_id = $1', [keyId]);
    return row ? toKey(row) : undefined;
  }

  /** Every key, newest first. */
  async list(): Promise<StoredApiKey[]> {
    return (await this.sql.query('select * from forge_api_keys order by created_at desc, key_id')).map(toKey);
  }

  /** Revokes the key at `at`; undefined when there is no such key or it was revoked already. */
  async revoke(keyId: string, at: number): Promise<StoredApiKey | undefined> {
    const [row] = await this.sql.query(
      'update forge_api_keys set revoked_at = $2 where key_id = $1 and revoked_at is null returning *',
      [keyId, at],
    );
    return row ? toKey(row) : undefined;
  }

  /**
   * Records a use at `at` unless one within `minIntervalMs` is recorded already: a key used on every request is
   * written at most once per interval, by whichever replica gets there first.
   */
  async touch(keyId: string, at: number, minIntervalMs: number): Promise<boolean> {
    const rows = await this.sql.query(
      `update forge_api_keys set last_used_at = $2
       where key_id = $1 and (last_used_at is null or last_used_at <= $3) returning key_id`,
      [keyId, at, at - minIntervalMs],
    );
    return rows.length > 0;
  }
}
