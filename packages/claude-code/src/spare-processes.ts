import type { Logger } from '@forge/core';
import type { ClaudeProcess } from './claude-process.js';

/** Why a spare is over: a new session took it, it waited `idleMs`, its holder let it go, or it died or never started. */
export type SpareEnd = 'taken' | 'idle' | 'released' | 'exited' | 'failed';

/** One CLI process kept started for new sessions of one shape (`agent.prewarm(request)`). */
export interface Spare {
  /** Settles once the spare is over, with why; a taken process goes on as its session's. */
  readonly ended: Promise<SpareEnd>;
  /** Ends the spare (its process, or its start) unless a session has taken it. */
  release(): void;
}

interface Entry {
  shape: string;
  process?: ClaudeProcess;
  timer?: ReturnType<typeof setTimeout>;
  over: boolean;
  finish(why: SpareEnd): void;
  ended: Promise<SpareEnd>;
}

/**
 * Spare processes asked for by shape (argv, cwd, env of a request), at most one per shape: what a host that knows
 * its sessions' options ahead (a platform, per agent) keeps ready, where `prewarm` only knows the agent's
 * defaults. Nothing is refilled here: the holder asks again. Nothing here keeps the host's event loop alive.
 */
export class SpareProcesses {
  private readonly byShape = new Map<string, Entry>();
  private readonly starting = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly retire: (process: ClaudeProcess) => void,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.byShape.size;
  }

  /** The spare of `shape`: the one already there or starting, else a new one from `start`. */
  ensure(shape: string, start: () => Promise<ClaudeProcess>, idleMs: number): Spare {
    const held = this.byShape.get(shape);
    if (held) return handle(held);
    let settle!: (why: SpareEnd) => void;
    const entry: Entry = {
      shape,
      over: false,
      ended: new Promise<SpareEnd>((resolve) => {
        settle = resolve;
      }),
      finish: (why) => {
        if (entry.over) return;
        entry.over = true;
        if (this.byShape.get(shape) === entry) this.byShape.delete(shape);
        if (entry.timer) clearTimeout(entry.timer);
        if (why !== 'taken' && entry.process) this.retire(entry.process);
        settle(why);
      },
    };
    if (this.closed) {
      entry.finish('released');
      return handle(entry);
    }
    this.byShape.set(shape, entry);
    const started = start().then(
      (process) => this.add(entry, process, idleMs),
      (error: unknown) => {
        this.logger.warn('claude-code: a spare CLI could not start', { error: String(error) });
        entry.finish('failed');
      },
    );
    const done = started.finally(() => this.starting.delete(done));
    this.starting.add(done);
    return handle(entry);
  }

  /** The ready spare of `shape`, if it is alive; it leaves for good (its session owns it now). */
  take(shape: string): ClaudeProcess | undefined {
    const entry = this.byShape.get(shape);
    const process = entry?.process;
    if (!entry || !process) return undefined;
    if (!process.alive) {
      entry.finish('exited');
      return undefined;
    }
    entry.finish('taken');
    process.proc.ref?.();
    return process;
  }

  /** Ends every spare, ready or starting; later asks end at once. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.byShape.values()]) entry.finish('released');
    await Promise.all([...this.starting]);
  }

  private add(entry: Entry, process: ClaudeProcess, idleMs: number): void {
    entry.process = process;
    // Released (or closed) while it started: it ends now.
    if (entry.over) {
      this.retire(process);
      return;
    }
    entry.timer = setTimeout(() => entry.finish('idle'), idleMs);
    entry.timer.unref?.();
    process.proc.unref?.();
    void process.proc.exited.then(() => entry.finish('exited'));
  }
}

const handle = (entry: Entry): Spare => ({ ended: entry.ended, release: () => entry.finish('released') });
