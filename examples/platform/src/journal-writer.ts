import type { AgentEvent, AgentResult } from '@forge/core';
import type { NewEvent, RunStore, RunUsageFigures } from '@forge/store';
import { journalEvent, runEnd } from './run-events.js';

export interface JournalWriterOptions {
  /** Where batches are committed: the store, or a JournalBatcher that gathers many runs' batches. */
  store: Pick<RunStore, 'append'>;
  requestId: string;
  owner: string;
  /** The run has a webhook: its events become outbox rows too. */
  webhook: boolean;
  now: () => number;
  /** Called with each batch once it is committed, in seq order. */
  publish: (events: Array<{ event: AgentEvent; row: NewEvent }>) => void;
  /**
   * The batch could not be stored; the run must stop. A lost lease leaves the run to its new holder;
   * any other failure (a value the database refuses, the database gone) ends it here (STORE_WRITE_FAILED).
   */
  failed: (error: unknown) => void;
  /** What the run used, written with its final event (forge_run_usage). */
  usage?: (result: AgentResult) => RunUsageFigures;
}

const MAX_BATCH = 2_000;

/**
 * Journals a run's events before anyone sees them, in batches: while one batch commits the next
 * gathers, so a fast producer pays one transaction per batch, not per event (group commit).
 */
export class JournalWriter {
  #pending: AgentEvent[] = [];
  #flushing: Promise<void> | undefined;
  #broken: unknown;

  constructor(private readonly options: JournalWriterOptions) {}

  /** Events waiting for the next commit. */
  get backlog(): number {
    return this.#pending.length;
  }

  /** Set once a batch failed; later events are dropped. */
  get broken(): unknown {
    return this.#broken;
  }

  push(event: AgentEvent): void {
    if (this.#broken !== undefined) return;
    this.#pending.push(event);
    this.#flushing ??= this.#loop();
  }

  /** Resolves when everything pushed so far is committed (or the writer broke). */
  async drained(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #loop(): Promise<void> {
    const o = this.options;
    try {
      while (this.#pending.length && this.#broken === undefined) {
        // A transaction costs the same for 1 event as for 1,000: let a fast producer fill the batch
        // first (a few turns of the event loop at most, none once the run has ended).
        for (let turns = 0; turns < 4 && this.#pending.length < MAX_BATCH; turns++) {
          const before = this.#pending.length;
          if (this.#pending.at(-1)!.type === 'run.completed') break;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.#pending.length === before) break;
        }
        const batch = this.#pending.splice(0, MAX_BATCH);
        const rows = batch.map((event) => journalEvent(event, o.webhook));
        const last = batch.at(-1)!;
        const end =
          last.type === 'run.completed'
            ? runEnd(last.result as AgentResult, o.now(), !o.webhook, o.usage?.(last.result as AgentResult))
            : undefined;
        try {
          await o.store.append(o.requestId, o.owner, rows, end);
        } catch (error) {
          this.#broken = error;
          this.#pending.length = 0;
          o.failed(error);
          break;
        }
        o.publish(batch.map((event, i) => ({ event, row: rows[i]! })));
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
