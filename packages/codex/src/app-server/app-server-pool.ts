import type { StopGrace } from '@forge/core/internal';
import type { AppServerProcess } from './app-server-process.js';

export interface AppServerIdleOptions {
  /** How long an app server with no turn running is kept for the next one. Default 60,000 ms. */
  idleMs?: number;
}

export interface PrewarmOptions {
  /**
   * Accepted for the same shape as the other CLI adapters; one app server runs any number of threads side by
   * side, so one is kept whatever the count. Default 1.
   */
  count?: number;
  /** How long the prewarmed server waits with no turn running before it is stopped. Default 300,000 ms. */
  idleMs?: number;
}

interface Entry {
  server: Promise<AppServerProcess>;
  users: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The app servers of one agent, one per process shape (argv, env, cwd: what a request can change about the
 * process itself). Runs share a server; the server outlives them by `idleMs`, holding no event-loop reference
 * while idle, and one that died is replaced on the next acquire (its threads are resumed from disk).
 */
export class AppServerPool {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private closed = false;
  /** Processes started so far (tests and benchmarks read it). */
  starts = 0;
  /** The shape kept started ahead of need (`prewarm`), and how long it waits idle. */
  private warm: { shape: string; idleMs: number } | undefined;

  constructor(
    options: AppServerIdleOptions,
    private readonly grace: StopGrace,
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    if (!(this.idleMs > 0)) throw new RangeError(`appServer.idleMs must be positive, got ${this.idleMs}`);
  }

  /**
   * Starts a server of `shape` now, with no run waiting for it, so the next new thread finds it started and
   * initialized. It then waits `idleMs` (or `appServer.idleMs` if longer) between runs, like any other.
   */
  prewarm(shape: string, options: PrewarmOptions, start: () => Promise<AppServerProcess>): void {
    const count = options.count ?? 1;
    const idleMs = options.idleMs ?? 300_000;
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`prewarm.count must be a positive integer, got ${count}`);
    if (!(idleMs > 0)) throw new RangeError(`prewarm.idleMs must be positive, got ${idleMs}`);
    this.warm = { shape, idleMs: Math.max(idleMs, this.idleMs) };
    if (this.closed || this.entries.has(shape)) return;
    const entry = this.add(shape, start);
    void entry.server.then(
      (server) => {
        if (this.entries.get(shape) === entry && entry.users === 0) this.idle(shape, entry, server);
      },
      () => undefined,
    );
  }

  /** Whether a shape is kept started ahead of need. */
  get prewarmed(): boolean {
    return this.warm !== undefined;
  }

  async acquire(shape: string, start: () => Promise<AppServerProcess>): Promise<AppServerProcess> {
    if (this.closed) throw new Error('the agent was closed');
    let entry = this.entries.get(shape);
    if (entry) {
      const server = await entry.server.catch(() => undefined);
      if (!server?.alive && this.entries.get(shape) === entry) {
        this.entries.delete(shape);
        clearTimeout(entry.timer);
        entry = undefined;
      }
    }
    entry ??= this.entries.get(shape);
    entry ??= this.add(shape, start);
    entry.users++;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    try {
      const server = await entry.server;
      server.proc.ref?.();
      return server;
    } catch (error) {
      entry.users--;
      throw error;
    }
  }

  release(shape: string, server: AppServerProcess): void {
    const entry = this.entries.get(shape);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) return;
    if (!server.alive) {
      this.entries.delete(shape);
      return;
    }
    this.idle(shape, entry, server);
  }

  private add(shape: string, start: () => Promise<AppServerProcess>): Entry {
    this.starts++;
    const server = start();
    const entry: Entry = { server, users: 0, timer: undefined };
    this.entries.set(shape, entry);
    server.catch(() => {
      if (this.entries.get(shape) === entry) this.entries.delete(shape);
    });
    return entry;
  }

  private idle(shape: string, entry: Entry, server: AppServerProcess): void {
    server.proc.unref?.();
    clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => {
        if (this.entries.get(shape) !== entry || entry.users > 0) return;
        this.entries.delete(shape);
        void server.stop(this.grace);
      },
      shape === this.warm?.shape ? this.warm.idleMs : this.idleMs,
    );
    entry.timer.unref?.();
  }

  /** Stops every server (their runs end as failed, their threads stay on disk). */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (e) => {
        clearTimeout(e.timer);
        const server = await e.server.catch(() => undefined);
        await server?.stop(this.grace);
      }),
    );
  }
}
