import type { StreamOutbox } from './service-state.js';

export interface RunTapLimits {
  /** Most recent events kept for a re-attach. */
  maxEvents: number;
  /** ...and most bytes of them (the newest one is always kept). */
  maxBytes: number;
}

/**
 * Where one served run's encoded events go: the stream that carries the run now (none while it is
 * detached) and a bounded buffer of its latest events, so a client that re-attaches after the event it
 * last has (a host replica taking the run over in a rolling restart) gets the rest without a gap.
 */
export class RunTap {
  #outbox: StreamOutbox | undefined;
  readonly #buffer: Array<{ seq: number; bytes: Uint8Array }> = [];
  #bufferedBytes = 0;
  #lastSeq = 0;

  constructor(
    outbox: StreamOutbox,
    private readonly limits: RunTapLimits,
  ) {
    this.#outbox = outbox;
  }

  /** The stream that carries the run, if one does. */
  get outbox(): StreamOutbox | undefined {
    return this.#outbox;
  }

  /** The seq of the oldest buffered event (lastSeq + 1 when none is). */
  get firstBufferedSeq(): number {
    return this.#buffer[0]?.seq ?? this.#lastSeq + 1;
  }

  /** Routes an event; false when the stream wants the producer to wait (`drained`). */
  push(seq: number, bytes: Uint8Array): boolean {
    this.#lastSeq = seq;
    this.#buffer.push({ seq, bytes });
    this.#bufferedBytes += bytes.byteLength;
    while (
      this.#buffer.length > 1 &&
      (this.#buffer.length > this.limits.maxEvents || this.#bufferedBytes > this.limits.maxBytes)
    ) {
      this.#bufferedBytes -= this.#buffer.shift()!.bytes.byteLength;
    }
    return this.#outbox ? this.#outbox.pushEvent(bytes) : true;
  }

  drained(): Promise<void> {
    return this.#outbox?.drained() ?? Promise.resolve();
  }

  /** No event goes to the current stream any more (those already there still go out). */
  detach(): void {
    this.#outbox = undefined;
  }

  /**
   * Puts the run on `outbox`, replaying the buffered events after `afterSeq` first. False (nothing done)
   * when an event after `afterSeq` has already left the buffer.
   */
  attach(outbox: StreamOutbox, afterSeq: number): boolean {
    if (afterSeq < this.#lastSeq && this.firstBufferedSeq > afterSeq + 1) return false;
    for (const e of this.#buffer) if (e.seq > afterSeq) outbox.pushEvent(e.bytes);
    this.#outbox = outbox;
    return true;
  }
}
