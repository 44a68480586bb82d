import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ValidationError } from '@forge/core';

/** A configured key: only its SHA-256 is kept, bound to one user. */
export interface ApiKeyRecord {
  userId: string;
  /** SHA-256 of the key, 32 bytes. */
  hash: Buffer;
  /** May run the platform's operator actions (issue enrolment tokens). */
  admin?: boolean;
  /** What the key may spend per UTC day, counted across replicas (`daily_cost_usd`, `daily_tokens`). */
  caps?: KeyCaps;
}

/** A key's daily spend cap: either or both. */
export interface KeyCaps {
  costUsd?: number;
  tokens?: number;
}

export interface Principal {
  userId: string;
  /** Hex SHA-256 of the key: the rate limiter and agent cap count per key by it. Never log the key itself. */
  keyId: string;
  /** The key is an operator's (`"admin": true` in the key file, or its user in FORGE_ADMIN_USERS). */
  admin: boolean;
  /** Its daily spend cap, when it has one. */
  caps?: KeyCaps;
  /** The id of a key issued over the API (`key_…`); absent for a bootstrap key (environment or file). */
  apiKeyId?: string;
}

/** Ids that are safe as a path segment, a label value and in a URL. */
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const hashKey = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

function invalid(message: string): never {
  throw new ValidationError('INVALID_API_KEYS', message, [{ path: 'apiKeys', code: 'INVALID_API_KEYS', message }]);
}

function record(userId: unknown, key: unknown, sha256: unknown, admin: unknown = false): ApiKeyRecord {
  if (typeof admin !== 'boolean') invalid(`"admin" of user ${String(userId)} must be true or false`);
  const flag = admin ? { admin: true } : {};
  if (typeof userId !== 'string' || !USER_ID.test(userId))
    invalid(`"${String(userId)}" is not a valid user id (letters, digits, ".", "_", "-")`);
  if (typeof sha256 === 'string') {
    if (!/^[0-9a-f]{64}$/i.test(sha256)) invalid(`the sha256 of user ${userId}'s key must be 64 hex digits`);
    return { userId, hash: Buffer.from(sha256, 'hex'), ...flag };
  }
  if (typeof key !== 'string' || key.length < 8)
    invalid(`the key of user ${userId} must be a string of at least 8 characters`);
  return { userId, hash: hashKey(key), ...flag };
}

function capsOf(userId: unknown, entry: Record<string, unknown>): KeyCaps | undefined {
  const caps: KeyCaps = {};
  for (const [field, cap] of [
    ['daily_cost_usd', 'costUsd'],
    ['daily_tokens', 'tokens'],
  ] as const) {
    const v = entry[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      invalid(`"${field}" of user ${String(userId)} must be a positive number`);
    caps[cap] = v;
  }
  return Object.keys(caps).length ? caps : undefined;
}

/**
 * `user1:key1,user2:key2` (the FORGE_API_KEYS form), or the key file's JSON when it starts with `[` or `{` (so
 * entries may carry a daily cap without a file).
 */
export function parseApiKeyList(text: string): ApiKeyRecord[] {
  if (/^\s*[[{]/.test(text)) return parseApiKeyJson(text);
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const colon = pair.indexOf(':');
      if (colon <= 0) invalid('FORGE_API_KEYS must look like user1:key1,user2:key2');
      return record(pair.slice(0, colon), pair.slice(colon + 1), undefined);
    });
}

/**
 * A JSON file: `{ "keys": [{ "user": "alice", "key": "…" }, { "user": "bob", "sha256": "<hex>" }] }` (or the array
 * alone). `sha256` lets the file hold no plaintext key at all; `"admin": true` makes the key an operator's;
 * `"daily_cost_usd"` / `"daily_tokens"` cap what the key may spend per UTC day.
 */
export function parseApiKeyJson(text: string): ApiKeyRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    invalid(`the API key file is not JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(data) ? data : (data as { keys?: unknown })?.keys;
  if (!Array.isArray(list))
    invalid('the API key file must hold an array of { user, key | sha256 } (or { keys: [...] })');
  return list.map((entry: Record<string, unknown>) => {
    const r = record(entry?.user ?? entry?.user_id, entry?.key, entry?.sha256, entry?.admin ?? false);
    const caps = capsOf(r.userId, entry ?? {});
    return caps ? { ...r, caps } : r;
  });
}

export const readApiKeyFile = (path: string): ApiKeyRecord[] => parseApiKeyJson(readFileSync(path, 'utf8'));

/** FORGE_ADMIN_USERS (`ops,alice`): every key of these users becomes an operator's; naming an unknown user is an error. */
export function markAdmins(records: ApiKeyRecord[], users: string): ApiKeyRecord[] {
  const names = users
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names)
    if (!records.some((r) => r.userId === name)) invalid(`FORGE_ADMIN_USERS names "${name}", who has no API key`);
  return records.map((r) => (names.includes(r.userId) ? { ...r, admin: true } : r));
}

/** Keys in constant time: every record is compared, whichever matches. */
export class ApiKeyStore {
  readonly #records: ApiKeyRecord[];

  constructor(records: ApiKeyRecord[]) {
    const seen = new Set<string>();
    for (const r of records) {
      const hex = r.hash.toString('hex');
      if (seen.has(hex)) invalid(`the same API key is configured twice (user ${r.userId})`);
      seen.add(hex);
    }
    this.#records = records.map((r) => ({
      userId: r.userId,
      hash: Buffer.from(r.hash),
      admin: r.admin === true,
      ...(r.caps ? { caps: { ...r.caps } } : {}),
    }));
  }

  /** The daily cap of the key with this id (hex SHA-256), if it has one: what a replica running its run reads. */
  capsOf(keyId: string): KeyCaps | undefined {
    return this.#records.find((r) => r.hash.toString('hex') === keyId)?.caps;
  }

  get size(): number {
    return this.#records.length;
  }

  authenticate(key: string | undefined): Principal | undefined {
    if (!key) return undefined;
    const candidate = hashKey(key);
    let found: ApiKeyRecord | undefined;
    for (const r of this.#records) {
      // Hashes are all 32 bytes, so timingSafeEqual never throws, and the loop never exits early.
      if (timingSafeEqual(r.hash, candidate) && !found) found = r;
    }
    if (!found) return undefined;
    const principal: Principal = {
      userId: found.userId,
      keyId: found.hash.toString('hex'),
      admin: found.admin === true,
    };
    return found.caps ? { ...principal, caps: found.caps } : principal;
  }
}

/** `Authorization: Bearer <key>` → the key. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
