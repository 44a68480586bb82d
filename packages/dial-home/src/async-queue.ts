/**
 * A single-reader queue that is also an AsyncIterable: one side of a stream. `push` says when
 * the queue is past its high-water mark so producers can `await drained()`; `end` lets the reader
 * finish what is queued, `close` discards it. A pushed item may be merged into the last queued
 * one (`merge`), so a run's events that pile up while the stream is busy leave as one message.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private drainWaiters: Array<() => void> = [];
  private ended = false;
  private closed = false;

  constructor(private readonly highWaterMark = 256) {}

  get size(): number {
    return this.items.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** False when the producer should `await drained()`; also false once ended (the item is dropped). */
  push(item: T, merge?: (last: T) => boolean): boolean {
    if (this.ended) return false;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value: item, done: false });
      return true;
    }
    const last = this.items[this.items.length - 1];
    if (merge && last !== undefined && merge(last)) return this.items.length < this.highWaterMark;
    this.items.push(item);
    return this.items.length < this.highWaterMark;
  }

  drained(): Promise<void> {
    if (this.closed || this.items.length < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** No more items; the reader ends after taking what is queued. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.items.length === 0) this.wakeDone();
  }

  /** Discards what is queued and ends the reader now. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.items = [];
    this.wakeDone();
    this.releaseDrainWaiters();
  }

  private wakeDone(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length) {
          const value = this.items.shift()!;
          if (this.drainWaiters.length && this.items.length < this.highWaterMark / 2 + 1) this.releaseDrainWaiters();
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      // Connect calls return()/throw() on a request source when the call ends.
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
