import type { JournalEvent } from '@forge/store';
import type { RunTail } from './run-tail.js';

/** Finished runs whose tails are kept, and for how long. */
const MAX_RUNS = 256;
const KEEP_MS = 30_000;

/**
 * The tails of runs that finished here lately (each ending with its run.completed), so a reader
 * that comes just after the end (a client that posted a message and then opened its stream, as
 * most do when runs are short or the queue is long) is answered from memory, not by a journal read
 * per reader. At most MAX_RUNS runs (so at most MAX_RUNS × TAIL_CHARS of bodies, 16 MiB), each for
 * KEEP_MS; older ones are read from the journal as before.
 */
export class RecentTails {
  readonly #tails = new Map<string, { tail: RunTail; until: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  keep(requestId: string, tail: RunTail): void {
    this.#tails.delete(requestId);
    this.#tails.set(requestId, { tail, until: this.now() + KEEP_MS });
    for (const [id, kept] of this.#tails) {
      if (this.#tails.size <= MAX_RUNS && kept.until > this.now()) break;
      this.#tails.delete(id);
    }
  }

  /** The finished run's events after `seq`, through its run.completed, if they are all here. */
  since(requestId: string, seq: number): JournalEvent[] | undefined {
    const kept = this.#tails.get(requestId);
    if (!kept) return undefined;
    if (kept.until <= this.now()) {
      this.#tails.delete(requestId);
      return undefined;
    }
    return kept.tail.since(seq);
  }
}
