/**
 * What one response stream still has to write: events of its runs and control messages, in the
 * order they were put in. The writer takes every event that is ready as one batch, so a fast run
 * costs one HTTP/2 write per batch rather than per event, and a slow client simply leaves events
 * waiting here and in the runs' own buffers — nothing is dropped.
 */
export class Outbox<E, C> {
  private items: Array<{ event: E } | { control: C }> = [];
  private wake: (() => void) | undefined;
  private drainWaiters: Array<() => void> = [];
  private ended = false;
  private closed = false;

  constructor(
    private readonly highWaterMark = 1024,
    private readonly maxBatch = 512,
    /** With `sizeOf`, a batch also stops growing past this many bytes (one event always fits). */
    private readonly maxBatchBytes = Number.POSITIVE_INFINITY,
    private readonly sizeOf: (event: E) => number = () => 0,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Returns false when the producer should `await drained()`. */
  pushEvent(event: E): boolean {
    if (this.closed) return true;
    this.items.push({ event });
    this.notify();
    return this.items.length < this.highWaterMark;
  }

  pushControl(control: C): void {
    if (this.closed) return;
    this.items.push({ control });
    this.notify();
  }

  drained(): Promise<void> {
    if (this.closed || this.items.length < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** No more items will come; the writer ends once it has written what is here. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The stream is gone: discard what is waiting and release producers. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.items = [];
    this.notify();
    this.releaseDrainWaiters();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Yields a batch of events or one control message at a time, until ended and empty. */
  async *take(): AsyncGenerator<{ events: E[] } | { control: C }> {
    for (;;) {
      if (this.items.length === 0) {
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const first = this.items[0]!;
      if ('control' in first) {
        this.items.shift();
        this.afterTake();
        yield first;
        continue;
      }
      let n = 1;
      let bytes = this.sizeOf(first.event);
      while (n < this.items.length && n < this.maxBatch && bytes < this.maxBatchBytes) {
        const next = this.items[n]!;
        if (!('event' in next)) break;
        bytes += this.sizeOf(next.event);
        n++;
      }
      const batch = this.items.splice(0, n).map((i) => (i as { event: E }).event);
      this.afterTake();
      yield { events: batch };
    }
  }

  private afterTake(): void {
    if (this.drainWaiters.length && this.items.length < this.highWaterMark / 2 + 1) this.releaseDrainWaiters();
  }
}
