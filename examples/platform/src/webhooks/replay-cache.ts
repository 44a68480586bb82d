/** Remembers webhook ids seen recently, so a captured request cannot be replayed within the tolerance window. */
export interface ReplayCache {
  /** Records `id`; false when it was already recorded and has not expired (a replay). */
  remember(id: string, nowSeconds: number): boolean;
  /** Un-records `id`: the receiver failed to handle it and wants the sender's retry accepted. */
  forget(id: string): void;
  readonly size: number;
}

export interface ReplayCacheOptions {
  /** Oldest ids are forgotten beyond this many (default 50 000), so memory stays bounded. */
  maxEntries?: number;
  /**
   * How long an id is remembered (default 600 s). Keep it at least twice the verification tolerance: a timestamp
   * may be up to `tolerance` in the future, so it stays acceptable for 2 × tolerance.
   */
  ttlSeconds?: number;
}

/** In-memory, per process. A fleet of receivers behind a load balancer needs a shared store with the same contract. */
export function createReplayCache(options: ReplayCacheOptions = {}): ReplayCache {
  const maxEntries = Math.max(1, options.maxEntries ?? 50_000);
  const ttl = options.ttlSeconds ?? 600;
  // Insertion order = expiry order (constant ttl), so expired ids are always at the front.
  const expiries = new Map<string, number>();
  const evictExpired = (now: number) => {
    for (const [id, expiry] of expiries) {
      if (expiry > now) break;
      expiries.delete(id);
    }
  };
  return {
    remember(id, now) {
      evictExpired(now);
      if (expiries.has(id)) return false;
      expiries.set(id, now + ttl);
      if (expiries.size > maxEntries) expiries.delete(expiries.keys().next().value as string);
      return true;
    },
    forget(id) {
      expiries.delete(id);
    },
    get size() {
      return expiries.size;
    },
  };
}
