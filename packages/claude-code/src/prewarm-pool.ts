import type { Logger } from '@forge/core';
import type { ClaudeProcess } from './claude-process.js';

export interface PrewarmOptions {
  /** How many idle processes to keep ready for new sessions. Default 1. */
  count?: number;
  /** How long a ready process waits for a session before it is ended (and not replaced until the next new
   * session asks for one). Default 300,000 ms. */
  idleMs?: number;
}

interface Ready {
  process: ClaudeProcess;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * CLI processes started ahead of need with the agent's default argv, env and cwd (`shape`), each waiting on stdin
 * for the first message of a new session, so that turn does not pay for the CLI's start. A process leaves the pool
 * for good when a run takes it (it then belongs to its session, and may go to the warm-session pool after).
 *
 * The pool fills when the agent is made and again after each run of a new session of the default shape, hit or
 * miss; an idle one ends after `idleMs` and is not replaced until then, so an agent nobody uses
 * holds no processes for long. Nothing here keeps the host's event loop alive.
 */
export class PrewarmPool {
  private readonly ready: Ready[] = [];
  private starting = 0;
  private closed = false;
  private readonly pending = new Set<Promise<void>>();
  readonly count: number;
  private readonly idleMs: number;

  constructor(
    options: PrewarmOptions,
    readonly shape: string,
    private readonly start: () => Promise<ClaudeProcess>,
    private readonly retire: (process: ClaudeProcess) => void,
    private readonly logger: Logger,
  ) {
    this.count = options.count ?? 1;
    this.idleMs = options.idleMs ?? 300_000;
    if (!Number.isInteger(this.count) || this.count < 1)
      throw new RangeError(`prewarm.count must be a positive integer, got ${this.count}`);
    if (!(this.idleMs > 0)) throw new RangeError(`prewarm.idleMs must be positive, got ${this.idleMs}`);
  }

  get size(): number {
    return this.ready.length;
  }

  /** Starts processes until `count` are ready or starting. */
  fill(): void {
    while (!this.closed && this.ready.length + this.starting < this.count) {
      this.starting++;
      const started = this.start().then(
        (process) => this.add(process),
        (error: unknown) => this.logger.warn('claude-code: a prewarmed CLI could not start', { error: String(error) }),
      );
      const done = started.finally(() => {
        this.starting--;
        this.pending.delete(done);
      });
      this.pending.add(done);
    }
  }

  /**
   * A ready process for a new session of `shape`, if one is alive. The caller calls `fill` once the turn is
   * over: a CLI starting beside the first turn would take the CPU that turn needs on a small machine.
   */
  take(shape: string): ClaudeProcess | undefined {
    if (shape !== this.shape) return undefined;
    let found: ClaudeProcess | undefined;
    while (!found && this.ready.length > 0) {
      const r = this.ready.shift() as Ready;
      clearTimeout(r.timer);
      if (r.process.alive) found = r.process;
      else this.retire(r.process);
    }
    found?.proc.ref?.();
    return found;
  }

  /** Ends every ready process and every one still starting; later starts end at once. */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.ready.splice(0)) {
      clearTimeout(r.timer);
      this.retire(r.process);
    }
    await Promise.all([...this.pending]);
  }

  private add(process: ClaudeProcess): void {
    if (this.closed) {
      this.retire(process);
      return;
    }
    const entry: Ready = {
      process,
      timer: setTimeout(() => {
        const i = this.ready.indexOf(entry);
        if (i >= 0) {
          this.ready.splice(i, 1);
          this.retire(process);
        }
      }, this.idleMs),
    };
    // A process waiting for a session must never keep the host's event loop alive: neither its timer nor (where
    // the runner can say so) the process and its pipes.
    entry.timer.unref?.();
    process.proc.unref?.();
    this.ready.push(entry);
    // One that dies while waiting leaves at once.
    void process.proc.exited.then(() => {
      const i = this.ready.indexOf(entry);
      if (i >= 0) {
        this.ready.splice(i, 1);
        clearTimeout(entry.timer);
      }
    });
  }
}
