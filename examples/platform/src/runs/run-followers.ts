import type { JournalEvent } from '@forge/store';
import { isFinal } from './final-status.js';
import type { RunContext } from './run-context.js';

/**
 * Readers of a run's events (SSE): from the journal, then live as they are committed, ending with
 * run.completed, whether the run executes here, on another instance, or has not started yet.
 */
export class RunFollowers {
  /** Followers of runs executing elsewhere, by request id: woken when a batch of theirs is journaled. */
  readonly #followers = new Map<string, Set<() => void>>();

  /** Journal reads in flight, by run and position: readers of a run at the same place share one statement. */
  readonly #reads = new Map<string, Promise<JournalEvent[]>>();

  constructor(private readonly ctx: RunContext) {}

  #events(requestId: string, afterSeq: number): Promise<JournalEvent[]> {
    const key = `${afterSeq} ${requestId}`;
    let read = this.#reads.get(key);
    if (!read) {
      read = this.ctx.store.runs.events(requestId, afterSeq);
      this.#reads.set(key, read);
      const forget = () => this.#reads.delete(key);
      read.then(forget, forget);
    }
    return read;
  }

  /** A batch of the run was journaled (by any instance): its followers read on now, not at their next poll. */
  journaled(requestId: string): void {
    for (const wake of this.#followers.get(requestId) ?? []) wake();
  }

  /** The run has ended (its run.completed is journaled), or is gone (retention). */
  async #ended(requestId: string): Promise<boolean> {
    const run = await this.ctx.store.runs.get(requestId);
    return run === undefined || isFinal(run.status);
  }

  /** A run's events after `afterSeq`, ending with run.completed (or when `signal` or close stops it). */
  async *follow(requestId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<JournalEvent> {
    const { followPollMs } = this.ctx;
    let last = afterSeq;
    const stop = AbortSignal.any([signal, this.ctx.closing.signal]);
    let wake: (() => void) | undefined;
    const onStop = () => wake?.();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      while (!stop.aborted) {
        const live = this.ctx.live.get(requestId);
        if (live && !live.settled) {
          const queue: JournalEvent[] = [];
          const unsubscribe = live.subscribe((e) => {
            queue.push(e);
            wake?.();
          });
          try {
            // Subscribed first, then what committed before: from the run's tail when it holds it (no
            // statement), else from the journal. Whatever commits after is heard.
            const held = live.tail.since(last);
            if (held) queue.unshift(...held);
            else
              for (;;) {
                const page = await this.#events(requestId, last);
                for (const e of page) {
                  yield e;
                  last = e.seq;
                  if (e.type === 'run.completed') return;
                }
                if (page.length < 1_000) break;
              }
            while (!stop.aborted) {
              for (let e = queue.shift(); e; e = queue.shift()) {
                if (e.seq <= last) continue;
                yield e;
                last = e.seq;
                if (e.type === 'run.completed') return;
              }
              if (live.settled) break;
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
            }
          } finally {
            unsubscribe();
          }
          continue;
        }
        // Finished here a moment ago: its last events are still in memory, through its run.completed.
        const recent = this.ctx.recent.since(requestId, last);
        if (recent) {
          yield* recent;
          return;
        }
        // Executing elsewhere (or not yet): the journal, woken by its NOTIFY, polled in case one is missed.
        let journaled = false;
        const onJournaled = () => {
          journaled = true;
          wake?.();
        };
        const followers = this.#followers.get(requestId) ?? new Set();
        this.#followers.set(requestId, followers.add(onJournaled));
        try {
          const page = await this.#events(requestId, last);
          for (const e of page) {
            yield e;
            last = e.seq;
            if (e.type === 'run.completed') return;
          }
          // Nothing after `last` and the run has ended: the reader resumed at or past its run.completed
          // (a browser's EventSource reconnecting does): there is nothing more to wait for.
          if (!page.length && !journaled && (await this.#ended(requestId))) return;
          if (page.length < 1_000 && !journaled && !stop.aborted) {
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, followPollMs);
            });
            clearTimeout(timer);
            wake = undefined;
          }
        } finally {
          followers.delete(onJournaled);
          if (!followers.size) this.#followers.delete(requestId);
        }
      }
    } finally {
      stop.removeEventListener('abort', onStop);
    }
  }
}
