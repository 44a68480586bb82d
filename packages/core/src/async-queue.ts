import { ForgeError } from './errors.js';

export interface AsyncQueueOptions {
  /** Above this many unread items `push` returns false: the producer should `await drained()`. Default: never. */
  highWaterMark?: number;
  /** Hard bound on unread items; past it `push` throws (see `overflowError`). Default: none. */
  maxBuffered?: number;
  /** The error `push` throws past `maxBuffered`. Default: a ForgeError `QUEUE_OVERFLOW`. */
  overflowError?: (maxBuffered: number) => Error;
  /**
   * Makes a second `[Symbol.asyncIterator]()` throw this error (a run can be read once). Without it a second call
   * returns another handle on the same single reader, as Connect needs: it asks again to call `throw()` on abort.
   */
  iteratedError?: () => Error;
}

/**
 * The one single-reader FIFO of Forge: between a run and its reader, a client stream and the code that feeds it,
 * a session and its socket. Nothing is dropped while a reader may still come; `push` says when the producer
 * should slow down, and `drained()` when it may go on. `end()` lets the reader take what is queued and finish;
 * `close()` (also what a reader's `break` does) discards it. A pushed item may be merged into the last queued
 * one, so messages that pile up while a stream is busy leave as one.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private ended = false;
  private closed = false;
  private attached = false;
  private waitingReader: ((r: IteratorResult<T>) => void) | undefined;
  private drainWaiters: Array<() => void> = [];
  private readonly highWaterMark: number;
  private readonly maxBuffered: number;

  constructor(private readonly options: AsyncQueueOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? Number.POSITIVE_INFINITY;
    this.maxBuffered = options.maxBuffered ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** True once `end()` or `close()` was called: pushes are refused from then on. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Adds an item, or merges it into the last unread one when `merge(last)` returns true. Returns false when the
   * producer should wait for `drained()`, and once the queue has ended (the item is then dropped: nobody can
   * read it). Throws past `maxBuffered` rather than drop anything.
   */
  push(item: T, merge?: (last: T) => boolean): boolean {
    if (this.ended) return false;
    const reader = this.waitingReader;
    if (reader) {
      this.waitingReader = undefined;
      reader({ value: item, done: false });
      return true;
    }
    if (merge && this.size > 0 && merge(this.items[this.items.length - 1] as T)) {
      return this.size < this.highWaterMark;
    }
    if (this.size >= this.maxBuffered) {
      throw (
        this.options.overflowError?.(this.maxBuffered) ??
        new ForgeError('QUEUE_OVERFLOW', `More than ${this.maxBuffered} items are waiting to be read`, 'internal')
      );
    }
    this.items.push(item);
    return this.size < this.highWaterMark;
  }

  /** Appends an item even past `maxBuffered`: a run's last events are never refused. */
  pushFinal(item: T): void {
    if (this.ended) return;
    const reader = this.waitingReader;
    if (reader) {
      this.waitingReader = undefined;
      reader({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /**
   * Resolves when the reader has caught up below the high-water mark — at once when nobody reads yet (a late
   * reader must not stall the producer; `maxBuffered` bounds that) or the queue has ended.
   */
  drained(): Promise<void> {
    if (!this.attached || this.ended || this.size < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** No more items: the reader takes what is queued, then finishes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.size === 0) this.wakeReader();
    this.releaseDrainWaiters();
  }

  /** Discards what is queued and finishes the reader now. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.items = [];
    this.head = 0;
    this.wakeReader();
    this.releaseDrainWaiters();
  }

  private wakeReader(): void {
    const reader = this.waitingReader;
    this.waitingReader = undefined;
    reader?.({ value: undefined, done: true });
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    // Compact now and then instead of Array#shift on every read (O(n) per item on long queues).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.drainWaiters.length && this.size < this.highWaterMark / 2 + 1) this.releaseDrainWaiters();
    return item;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.attached && this.options.iteratedError) throw this.options.iteratedError();
    this.attached = true;
    const stop = (): Promise<IteratorResult<T>> => {
      this.close();
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.size > 0) return Promise.resolve({ value: this.shift(), done: false });
        if (this.ended || this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waitingReader = resolve;
        });
      },
      // A reader that breaks out, or a Connect call that ends its request source, wants no more.
      return: stop,
      throw: stop,
    };
  }
}
