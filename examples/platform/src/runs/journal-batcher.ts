import { appendBatches, type NewEvent, type RunEnd, type RunStore } from '@forge/store';

/** Batches in one statement at most (and events, so one statement's hold on the loop stays short). */
const MAX_RUNS = 256;
const MAX_EVENTS = 4_000;

interface Waiting {
  requestId: string;
  owner: string;
  events: readonly NewEvent[];
  end: RunEnd | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The journal writes of every run executing here, gathered: the batches runs commit in the same
 * turn of the event loop (or while the previous statement runs) go in one statement
 * (`appendBatches` of @forge/store), instead of one statement per run per batch. Group commit across runs,
 * as JournalWriter does within one. A run's final batch (its end, status and usage) joins them too.
 * Each run keeps one batch in flight at a time (JournalWriter), so its order holds.
 */
export class JournalBatcher {
  #waiting: Waiting[] = [];
  #flushing: Promise<void> | undefined;

  constructor(private readonly store: Pick<RunStore, 'append' | 'sql'>) {}

  /** As `RunStore.append`. */
  append(requestId: string, owner: string, events: readonly NewEvent[], end?: RunEnd): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ requestId, owner, events, end, resolve, reject });
      this.#flushing ??= this.#loop();
    });
  }

  async #loop(): Promise<void> {
    try {
      // Let the other runs' batches of this turn join.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#waiting.length) {
        let events = 0;
        let n = 0;
        while (n < this.#waiting.length && n < MAX_RUNS && (n === 0 || events < MAX_EVENTS))
          events += this.#waiting[n++]!.events.length;
        const batch = this.#waiting.splice(0, n);
        let results: Array<unknown | undefined>;
        // One run's batch alone is the plain statement (the same cost, and what `append` says it does).
        if (batch.length === 1) {
          const [w] = batch;
          await this.store.append(w!.requestId, w!.owner, w!.events, w!.end).then(w!.resolve, w!.reject);
          continue;
        }
        try {
          results = await appendBatches(this.store.sql, batch, (b) =>
            this.store.append(b.requestId, b.owner, b.events, b.end),
          );
        } catch (error) {
          results = batch.map(() => error);
        }
        batch.forEach((w, i) => {
          if (results[i] === undefined) w.resolve();
          else w.reject(results[i]);
        });
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
