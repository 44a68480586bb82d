import { gunzipSync, gzipSync } from 'node:zlib';
import { type SessionFile, type SessionInfo, type SessionKey, type SessionStore, sessionChecks } from '@forge/core';
import type { Row, SqlClient } from './sql.js';

/** Chunks of one file above which a save folds them into one (a load then reads a few rows, not hundreds). */
const FOLD_AT = 64;

export interface SqlSessionStoreOptions {
  /** Bytes one session may hold (uncompressed). Default 64 MiB. */
  maxBytes?: number;
  now?: () => number;
}

/** A `forge_sessions` row as a SessionInfo (also the platform's per-agent listing's). */
export function sessionInfoOfRow(row: Row): SessionInfo {
  return {
    provider: row.provider as string,
    sessionId: row.session_id as string,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    size: Number(row.size),
    ...(row.cwd != null ? { cwd: row.cwd as string } : {}),
    ...(row.title != null ? { title: row.title as string } : {}),
  };
}

const bytesOf = (value: unknown): Uint8Array =>
  value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);

/**
 * The platform's SessionStore, on PGlite or PostgreSQL (migration 7): every replica sees the same sessions.
 * Files are kept as gzip chunks, an append one new row; a save is one transaction, so a failed save leaves
 * the session as it was.
 */
export function sqlSessionStore(sql: SqlClient, options: SqlSessionStoreOptions = {}): SessionStore {
  const max = sessionChecks.maxBytes(options);
  const now = options.now ?? Date.now;

  return {
    async save(key, save) {
      sessionChecks.save(key, save);
      const row = await sql.transaction(async (tx) => {
        const at = now();
        // Create the session's row, or lock it (an upsert locks the row it meets): two saves of one session
        // take turns, in one round trip.
        await tx.query(
          `insert into forge_sessions (provider, session_id, cwd, title, created_at, updated_at, size)
             values ($1, $2, $3, $4, $5, $5, 0)
             on conflict (provider, session_id) do update set updated_at = forge_sessions.updated_at`,
          [key.provider, key.sessionId, save.cwd ?? null, save.title ?? null, at],
        );
        const files = await tx.query<{ path: string; length: number; chunks: number; last: number }>(
          `select path, sum(raw_length)::bigint as length, count(*)::int as chunks, max(seq) as last
             from forge_session_chunks where provider = $1 and session_id = $2 group by path`,
          [key.provider, key.sessionId],
        );
        const stored = new Map(
          files.map((f) => [f.path, { length: Number(f.length), chunks: f.chunks, last: f.last }]),
        );
        let size = files.reduce((n, f) => n + Number(f.length), 0);
        for (const patch of save.files) {
          const had = stored.get(patch.path)?.length ?? 0;
          sessionChecks.appendFrom(key, patch.path, patch.from, had);
          size += (patch.from ?? 0) === 0 ? patch.data.length - had : patch.data.length;
        }
        sessionChecks.size(key, size, max);
        for (const patch of save.files) {
          const file = stored.get(patch.path);
          if ((patch.from ?? 0) === 0 || !file) {
            await tx.query('delete from forge_session_chunks where provider = $1 and session_id = $2 and path = $3', [
              key.provider,
              key.sessionId,
              patch.path,
            ]);
            await insertChunk(tx, key, patch.path, 0, patch.data);
          } else if (file.chunks + 1 >= FOLD_AT) {
            const whole = await readFile(tx, key, patch.path);
            await tx.query('delete from forge_session_chunks where provider = $1 and session_id = $2 and path = $3', [
              key.provider,
              key.sessionId,
              patch.path,
            ]);
            await insertChunk(tx, key, patch.path, 0, concat(whole, patch.data));
          } else await insertChunk(tx, key, patch.path, file.last + 1, patch.data);
        }
        const [updated] = await tx.query(
          `update forge_sessions set updated_at = $3, size = $4, cwd = coalesce($5, cwd), title = coalesce(title, $6)
             where provider = $1 and session_id = $2 returning *`,
          [key.provider, key.sessionId, Math.max(at, now()), size, save.cwd ?? null, save.title ?? null],
        );
        return updated!;
      });
      return sessionInfoOfRow(row);
    },
    async load(key) {
      sessionChecks.key(key);
      const [row] = await sql.query('select * from forge_sessions where provider = $1 and session_id = $2', [
        key.provider,
        key.sessionId,
      ]);
      if (!row) return undefined;
      const chunks = await sql.query<{ path: string; data: unknown }>(
        `select path, data from forge_session_chunks where provider = $1 and session_id = $2 order by path, seq`,
        [key.provider, key.sessionId],
      );
      const files: SessionFile[] = [];
      for (const c of chunks) {
        const data = gunzipSync(bytesOf(c.data));
        const last = files.at(-1);
        if (last?.path === c.path) last.data = concat(last.data, data);
        else files.push({ path: c.path, data: new Uint8Array(data) });
      }
      return { ...sessionInfoOfRow(row), files };
    },
    async delete(key) {
      sessionChecks.key(key);
      const rows = await sql.query('delete from forge_sessions where provider = $1 and session_id = $2 returning 1', [
        key.provider,
        key.sessionId,
      ]);
      return rows.length > 0;
    },
    async list(filter) {
      const rows = await sql.query(
        `select * from forge_sessions where ($1::text is null or provider = $1) and ($2::text is null or cwd = $2)
           order by updated_at desc, session_id limit $3`,
        [filter?.provider ?? null, filter?.cwd ?? null, sessionChecks.listLimit(filter)],
      );
      return rows.map(sessionInfoOfRow);
    },
  };
}

async function insertChunk(
  sql: Pick<SqlClient, 'query'>,
  key: SessionKey,
  path: string,
  seq: number,
  data: Uint8Array,
): Promise<void> {
  await sql.query(
    `insert into forge_session_chunks (provider, session_id, path, seq, raw_length, data) values ($1, $2, $3, $4, $5, $6)`,
    [key.provider, key.sessionId, path, seq, data.length, gzipSync(data)],
  );
}

async function readFile(sql: Pick<SqlClient, 'query'>, key: SessionKey, path: string): Promise<Uint8Array> {
  const chunks = await sql.query<{ data: unknown }>(
    'select data from forge_session_chunks where provider = $1 and session_id = $2 and path = $3 order by seq',
    [key.provider, key.sessionId, path],
  );
  return chunks.reduce<Uint8Array>((all, c) => concat(all, gunzipSync(bytesOf(c.data))), new Uint8Array());
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
