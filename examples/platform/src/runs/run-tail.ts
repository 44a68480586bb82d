import type { JournalEvent } from '@forge/store';

/** Characters of event bodies a live run keeps for its readers (beyond them, a late reader reads the journal). */
export const TAIL_CHARS = 64 * 1024;

/**
 * The last committed events of a run executing here, as its readers get them. Readers that join
 * while the run lives are served from here instead of each reading the journal: at 200 runs × 5
 * SSE readers that read was a statement per reader, most of the database's queue. It covers the
 * seqs after `from` up to the last committed; older events are dropped as the bodies pass
 * TAIL_CHARS, and a reader that needs them reads the journal (then goes on live).
 */
export class RunTail {
  #events: JournalEvent[] = [];
  #head = 0;
  #chars = 0;

  /** @param from the seq the tail starts after: what was journaled before the run started here. */
  constructor(private from: number) {}

  /** Seqs after this are all here (up to the last committed one). */
  get after(): number {
    return this.from;
  }

  /** Its last event is the run's run.completed: it holds the run's end. */
  get ended(): boolean {
    return this.#events.at(-1)?.type === 'run.completed';
  }

  add(event: JournalEvent): void {
    this.#events.push(event);
    this.#chars += event.body.length;
    while (this.#chars > TAIL_CHARS && this.#head < this.#events.length - 1) {
      const dropped = this.#events[this.#head++]!;
      this.#chars -= dropped.body.length;
      this.from = dropped.seq;
    }
    // Compacted now and then, not on every drop.
    if (this.#head > 1_024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The committed events after `seq`, when the tail holds them all (`seq` ≥ `after`); otherwise undefined. */
  since(seq: number): JournalEvent[] | undefined {
    if (seq < this.from) return undefined;
    const out: JournalEvent[] = [];
    for (let i = this.#head; i < this.#events.length; i++) if (this.#events[i]!.seq > seq) out.push(this.#events[i]!);
    return out;
  }
}
