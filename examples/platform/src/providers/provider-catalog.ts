import { type AgentCapabilities, describeError, type ProviderRegistry, systemClock, type Clock } from '@forge/core';

/** What the platform can run under one provider name. */
export interface ProviderEntry {
  name: string;
  /** False when the provider cannot run here (its binary is missing, it did not answer). */
  available: boolean;
  /** Why it is not available. */
  reason?: string;
  version?: string;
  capabilities?: AgentCapabilities;
}

export interface ProviderCatalogOptions {
  /** Bound on one provider's `capabilities()`. Default 15 s. */
  probeTimeoutMs?: number;
  /** How long an answer is reused: probing runs `<cli> --version`, or starts a server. Default 60 s. */
  cacheMs?: number;
  clock?: Clock;
}

/**
 * The providers of a registry with their capabilities, probed in parallel and cached. A provider
 * is unavailable when building it or asking its capabilities fails or times out, when it says
 * `available: false`, or when it reports a `versionError` or an `error` in `extra`.
 */
export function providerCatalog(registry: ProviderRegistry, options: ProviderCatalogOptions = {}) {
  const timeoutMs = options.probeTimeoutMs ?? 15_000;
  const cacheMs = options.cacheMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const cache = new Map<string, { at: number; entry: Promise<ProviderEntry> }>();

  async function probe(name: string): Promise<ProviderEntry> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const caps = await Promise.race([registry.get(name).then((agent) => agent.capabilities()), late]);
      // Adapters that check say so in `available`; older ones report a binary that cannot run as
      // `versionError` (CLI adapters) or a start failure as `error` (ACP).
      const failure =
        caps.available === false
          ? (caps.unavailableReason ?? 'the provider reports it cannot run here')
          : ([caps.extra?.versionError, caps.extra?.error].find((e) => typeof e === 'string') as string | undefined);
      const entry: ProviderEntry = { name, available: failure === undefined, capabilities: caps };
      if (failure !== undefined) entry.reason = failure;
      if (caps.version !== undefined) entry.version = caps.version;
      return entry;
    } catch (error) {
      return { name, available: false, reason: describeError(error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async list(): Promise<ProviderEntry[]> {
      const now = clock.now();
      return Promise.all(
        registry.list().map((name) => {
          const hit = cache.get(name);
          if (hit && now - hit.at < cacheMs) return hit.entry;
          const entry = probe(name);
          cache.set(name, { at: now, entry });
          return entry;
        }),
      );
    },
  };
}

export type ProviderCatalog = ReturnType<typeof providerCatalog>;
