import { systemClock, type Clock, type Logger } from '@forge/core';
import type { StoredApiKeys } from '@forge/store';
import { hashKey, type ApiKeyStore, type Principal } from './api-keys.js';

/** What the API and the attach WebSocket ask of the keys: who sent this one, if anyone. */
export interface Authenticator {
  authenticate(key: string | undefined): Principal | undefined | Promise<Principal | undefined>;
}

/** Keys issued over the API start with this, so a scanner (and a person) can tell one at sight. */
export const ISSUED_KEY_PREFIX = 'forge_sk_';

/** Last use is written at most this often per key, so a busy key costs no write per request. */
export const LAST_USED_INTERVAL_MS = 60_000;

export interface KeyAuthenticatorOptions {
  /** The bootstrap keys (FORGE_API_KEYS, FORGE_API_KEYS_FILE): always valid, never stored. */
  bootstrap: ApiKeyStore;
  /** Keys issued over the API, shared by the replicas. */
  stored: StoredApiKeys;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The bootstrap keys first (in constant time, in memory), then, for a key with the issued prefix only, its row in
 * the store, read on every request: a revoked or expired key is refused by every replica at the next request, with
 * no cache that could lag behind. A key without the prefix never costs a query, so guessing costs the database
 * nothing.
 */
export class KeyAuthenticator implements Authenticator {
  readonly #o: KeyAuthenticatorOptions;
  readonly #clock: Clock;
  /** When this process last wrote each key's use: bounded by the keys in use. */
  readonly #touched = new Map<string, number>();

  constructor(options: KeyAuthenticatorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  async authenticate(key: string | undefined): Promise<Principal | undefined> {
    const boot = this.#o.bootstrap.authenticate(key);
    if (boot || !key?.startsWith(ISSUED_KEY_PREFIX)) return boot;
    const hash = hashKey(key).toString('hex');
    const found = await this.#o.stored.byHash(hash);
    const now = this.#clock.now();
    if (!found || found.revokedAt !== undefined || (found.expiresAt !== undefined && found.expiresAt <= now))
      return undefined;
    this.#touch(found.keyId, now);
    return { userId: found.userId, keyId: hash, admin: found.admin, apiKeyId: found.keyId };
  }

  #touch(keyId: string, now: number): void {
    const last = this.#touched.get(keyId);
    if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
    if (this.#touched.size > 10_000) this.#touched.clear();
    this.#touched.set(keyId, now);
    this.#o.stored
      .touch(keyId, now, LAST_USED_INTERVAL_MS)
      .catch((error: unknown) => this.#o.logger?.warn('could not record a key’s last use', { error: String(error) }));
  }
}
