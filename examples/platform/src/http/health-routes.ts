import type { ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { MIGRATIONS, type Sql } from '@forge/store';
import { sendJson } from './io.js';

export interface PlatformHealthOptions {
  /** The backend's kind, as /healthz always said. */
  backend: string;
  /** The store's connection: reachable, and migrated to the newest version this program knows. */
  sql: Sql;
  /** Set when remote agents are enabled: whether the hub accepts connections. */
  hubListening?: () => boolean;
  /** /livez fails when the event loop's delay (p99 since the previous check) is above this. Default 5 000 ms. */
  maxEventLoopDelayMs?: number;
  /** /readyz fails when the store has not answered in this long. Default 2 000 ms. */
  storeTimeoutMs?: number;
}

const NEWEST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version));

interface Check {
  ok: boolean;
  [field: string]: unknown;
}

/**
 * Liveness and readiness. Live: the process answers and its event loop is not stalled (monitorEventLoopDelay).
 * Ready: live, not draining (shutdown sets it, so the load balancer stops sending work first), the store answers a
 * bounded query and is migrated, and the dial-home hub listens when remote agents are enabled.
 */
export class PlatformHealth {
  #draining = false;
  readonly #loop: IntervalHistogram;
  readonly #options: PlatformHealthOptions;

  constructor(options: PlatformHealthOptions) {
    this.#options = options;
    this.#loop = monitorEventLoopDelay({ resolution: 20 });
    this.#loop.enable();
  }

  /** True once shutdown began: /readyz answers 503 from then on. */
  get draining(): boolean {
    return this.#draining;
  }

  /** The shutdown path calls this first (SIGTERM, `close()`): the replica turns not ready. */
  setDraining(draining = true): void {
    this.#draining = draining;
  }

  /** The event loop's delay since the previous check; then starts a new window. */
  #eventLoop(): Check {
    const limit = this.#options.maxEventLoopDelayMs ?? 5_000;
    const ms = (ns: number) => Math.round((Number.isFinite(ns) ? ns : 0) / 1e4) / 100;
    const p99 = this.#loop.count ? ms(this.#loop.percentile(99)) : 0;
    const max = this.#loop.count ? ms(this.#loop.max) : 0;
    this.#loop.reset();
    return { ok: p99 <= limit, p99_ms: p99, max_ms: max, limit_ms: limit };
  }

  async #store(): Promise<Check> {
    const timeoutMs = this.#options.storeTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const rows = await Promise.race([
        this.#options.sql.query<{ version: number | null }>(
          'select max(version) as version from forge_schema_migrations',
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const version = Number(rows[0]?.version ?? 0);
      return version >= NEWEST_MIGRATION
        ? { ok: true, schema_version: version }
        : { ok: false, schema_version: version, error: `migrations pending (newest ${NEWEST_MIGRATION})` };
    } catch (error) {
      return { ok: false, error: String((error as Error)?.message ?? error).slice(0, 200) };
    } finally {
      clearTimeout(timer);
    }
  }

  live(): { status: number; body: Record<string, unknown> } {
    const loop = this.#eventLoop();
    return { status: loop.ok ? 200 : 503, body: { ok: loop.ok, backend: this.#options.backend, event_loop: loop } };
  }

  async ready(): Promise<{ status: number; body: Record<string, unknown> }> {
    const loop = this.#eventLoop();
    const store = await this.#store();
    const checks: Record<string, Check> = { event_loop: loop, store, draining: { ok: !this.#draining } };
    if (this.#options.hubListening) checks.hub = { ok: this.#options.hubListening() };
    const ok = Object.values(checks).every((c) => c.ok);
    return { status: ok ? 200 : 503, body: { ok, backend: this.#options.backend, checks } };
  }

  /** Answers /livez, /readyz and /healthz (the old name of /livez); false for any other path. */
  async serve(res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname === '/livez' || pathname === '/healthz') {
      const { status, body } = this.live();
      sendJson(res, status, body);
      return true;
    }
    if (pathname === '/readyz') {
      const { status, body } = await this.ready();
      sendJson(res, status, body);
      return true;
    }
    return false;
  }

  close(): void {
    this.#loop.disable();
  }
}
