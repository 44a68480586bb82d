import type { StopGrace } from '@forge/core/internal';
import type { AppServerProcess } from './app-server-process.js';

export interface AppServerIdleOptions {
  /** How long an app server with no turn running is kept for the next one. Default 60,000 ms. */
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

  constructor(
    options: AppServerIdleOptions,
    private readonly grace: StopGrace,
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    if (!(this.idleMs > 0)) throw new RangeError(`appServer.idleMs must be positive, got ${this.idleMs}`);
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
    if (!entry) {
      this.starts++;
      const server = start();
      entry = { server, users: 0, timer: undefined };
      this.entries.set(shape, entry);
      const mine = entry;
      server.catch(() => {
        if (this.entries.get(shape) === mine) this.entries.delete(shape);
      });
    }
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
    server.proc.unref?.();
    entry.timer = setTimeout(() => {
      if (this.entries.get(shape) !== entry || entry.users > 0) return;
      this.entries.delete(shape);
      void server.stop(this.grace);
    }, this.idleMs);
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
