import type { ClaudeProcess } from './claude-process.js';

export interface WarmSessionsOptions {
  /** How long an idle process is kept. Default 60,000 ms. */
  idleMs?: number;
  /** How many idle processes are kept; the least recently used one goes first. Default 8. */
  max?: number;
}

interface Entry {
  sessionId: string;
  shape: string;
  process: ClaudeProcess;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Idle CLI processes, each holding one session, kept for the next turn of that session. A process is in the pool
 * only while no run uses it: `take` removes it, so a process serves one run at a time. `shape` is everything that
 * went into the process's argv, env and cwd; a run whose shape differs does not get it.
 */
export class WarmPool {
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly max: number;
  private closed = false;
  /** Processes whose exit already removes them from the pool (one hook per process, not one per turn). */
  private readonly watched = new WeakSet<ClaudeProcess>();

  constructor(
    options: WarmSessionsOptions,
    private readonly retire: (process: ClaudeProcess) => void,
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    this.max = options.max ?? 8;
    if (!(this.idleMs > 0)) throw new RangeError(`warmSessions.idleMs must be positive, got ${this.idleMs}`);
    if (!Number.isInteger(this.max) || this.max < 1)
      throw new RangeError(`warmSessions.max must be a positive integer, got ${this.max}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The idle process of `sessionId` when its shape matches and it is still alive. A process of the session with
   * another shape is retired: the session is about to continue elsewhere, and two writers must not share it.
   */
  take(sessionId: string, shape: string): ClaudeProcess | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;
    this.remove(entry);
    if (entry.shape !== shape || !entry.process.alive) {
      this.retire(entry.process);
      return undefined;
    }
    entry.process.proc.ref?.();
    return entry.process;
  }

  /** Keeps a process that has finished a turn; false (and retired) when the pool is closed. */
  put(sessionId: string, shape: string, process: ClaudeProcess): boolean {
    if (this.closed || !process.alive) {
      this.retire(process);
      return false;
    }
    const old = this.entries.get(sessionId);
    if (old) {
      // A concurrent run of the same session went cold; the newer process has the newer history.
      this.remove(old);
      if (old.process !== process) this.retire(old.process);
    }
    const timer = setTimeout(() => {
      const current = this.entries.get(sessionId);
      if (current?.process === process) {
        this.remove(current);
        this.retire(process);
      }
    }, this.idleMs);
    // An idle process must never keep the host's event loop alive: neither its timer nor (where the runner can
    // say so) the process and its pipes.
    timer.unref?.();
    process.proc.unref?.();
    const entry: Entry = { sessionId, shape, process, timer };
    this.entries.set(sessionId, entry);
    // A process that dies while idle leaves at once.
    if (!this.watched.has(process)) {
      this.watched.add(process);
      void process.proc.exited.then(() => {
        for (const e of this.entries.values()) if (e.process === process) this.remove(e);
      });
    }
    while (this.entries.size > this.max) {
      const lru = this.entries.values().next().value as Entry;
      this.remove(lru);
      this.retire(lru.process);
    }
    return true;
  }

  /** Removes and returns every idle process; later `put`s retire at once. */
  close(): ClaudeProcess[] {
    this.closed = true;
    const all = [...this.entries.values()];
    for (const e of all) this.remove(e);
    return all.map((e) => e.process);
  }

  private remove(entry: Entry): void {
    clearTimeout(entry.timer);
    if (this.entries.get(entry.sessionId) === entry) this.entries.delete(entry.sessionId);
  }
}
