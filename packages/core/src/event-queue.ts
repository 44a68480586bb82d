import { ForgeError } from './errors.js';

export interface EventQueueOptions {
  /** Above this many unread items the producer is told to slow down (`push` returns false). */
  highWaterMark: number;
  /** Hard bound on unread items; past it `push` throws an EVENT_BUFFER_OVERFLOW ForgeError. */
  maxBuffered: number;
}

/**
 * A single-consumer FIFO between a run's producer and its reader. Nothing is dropped while a reader
 * may still come: items wait in the buffer. When the reader stops early (`break`), later items are
 * discarded, because the reader said it wants no more.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private attached = false;
  private detached = false;
  private waitingReader: ((r: IteratorResult<T>) => void) | undefined;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly options: EventQueueOptions) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Returns false when the producer should wait for `drained()` before pushing more. */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.detached) return true;
    const reader = this.waitingReader;
    if (reader) {
      this.waitingReader = undefined;
      reader({ value: item, done: false });
      return true;
    }
    if (this.size >= this.options.maxBuffered) {
      throw new ForgeError(
        'EVENT_BUFFER_OVERFLOW',
        `More than ${this.options.maxBuffered} events are waiting to be read; the run is stopped rather than drop any`,
        'internal',
      );
    }
    this.items.push(item);
    return this.size < this.options.highWaterMark;
  }

  /** Appends the final item even past the bound: a run's last event is never refused. */
  pushFinal(item: T): void {
    if (this.closed) return;
    if (this.detached) return;
    const reader = this.waitingReader;
    if (reader) {
      this.waitingReader = undefined;
      reader({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** Resolves when the reader has caught up below the high-water mark, or when nobody is reading. */
  drained(): Promise<void> {
    if (!this.attached || this.detached || this.closed || this.size < this.options.highWaterMark)
      return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const reader = this.waitingReader;
    this.waitingReader = undefined;
    reader?.({ value: undefined, done: true });
    this.releaseDrainWaiters();
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
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.drainWaiters.length && this.size < this.options.highWaterMark / 2 + 1) this.releaseDrainWaiters();
    return item;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.attached) {
      throw new ForgeError(
        'RUN_ALREADY_ITERATED',
        'A run can be iterated once; fan its events out yourself',
        'conflict',
      );
    }
    this.attached = true;
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.size > 0) return Promise.resolve({ value: this.shift(), done: false });
        if (this.closed || this.detached) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waitingReader = resolve;
        });
      },
      return: (): Promise<IteratorResult<T>> => {
        this.detached = true;
        this.items = [];
        this.head = 0;
        this.releaseDrainWaiters();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
