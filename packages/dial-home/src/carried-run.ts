import { ForgeError, type AgentRun, type Logger } from '@forge/core';
import type { RunSessionChannel } from '@forge/transport-grpc/internal';
import { encodeEvent } from './wire.js';

/** Where a run's events go while a link carries it (AgentLink batches them onto its stream). */
export interface EventSink {
  /** False when the producer should wait for `drained`. */
  sendEvent(runId: string, bytes: Uint8Array): boolean;
  drained(): Promise<void>;
}

/** How long, and how much, a run the platform detached is kept going without a link. */
export interface DetachedRunLimits {
  /**
   * Most events buffered while no link carries the run. Past it the agent stops reading the run (its events wait
   * in the run itself, whose adapter is asked for backpressure): never an event dropped, so never a gap in seq.
   * Default 10,000.
   */
  maxEvents: number;
  /** ...and most bytes of them (the first is always taken). Default 32 MiB. */
  maxBytes: number;
  /** A run no platform instance attaches within this is cancelled here. Default 120 s. */
  ttlMs: number;
}

export const DEFAULT_DETACHED_RUN_LIMITS: DetachedRunLimits = {
  maxEvents: 10_000,
  maxBytes: 32 * 1024 * 1024,
  ttlMs: 120_000,
};

/** Codes of the refusals of a DetachCommand / AttachCommand on the link (as on the Connect stream). */
export const CarriedRunCodes = {
  RUN_NOT_FOUND: 'RUN_NOT_FOUND',
  RUN_ATTACHED: 'RUN_ATTACHED',
  EVENTS_LOST: 'EVENTS_LOST',
} as const;

/**
 * One run served for the platform, outliving the link it started on when the platform detaches it (a replica
 * stopping in a rolling restart): its events go to the link that carries it, or, while none does, into a bounded
 * buffer that the next link's attach replays after the platform's last event. Past the buffer's bound the run is
 * not read (backpressure); past `ttlMs` without an attach it is cancelled.
 */
export class CarriedRun {
  readonly pumped: Promise<void>;
  #sink: EventSink | undefined;
  readonly #buffer: Array<{ seq: number; bytes: Uint8Array }> = [];
  #bufferedBytes = 0;
  #lastSeq = 0;
  #room: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abandoned = false;
  #ended = false;

  constructor(
    readonly runId: string,
    readonly run: AgentRun,
    sink: EventSink,
    /** The run's session calls (runs linked to the platform's session store): they follow the run across links. */
    readonly sessions: RunSessionChannel | undefined,
    private readonly limits: DetachedRunLimits,
    private readonly logger: Logger,
  ) {
    this.#sink = sink;
    this.pumped = this.#pump();
  }

  get detached(): boolean {
    return this.#sink === undefined;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  get ended(): boolean {
    return this.#ended;
  }

  async #pump(): Promise<void> {
    const { runId, run } = this;
    try {
      for await (const event of run) {
        const bytes = encodeEvent(event.runId === runId ? event : { ...event, runId });
        this.#lastSeq = event.seq;
        // Detached and full: wait for a link (or the end of waiting) rather than drop anything.
        while (!this.#sink && !this.#abandoned && this.#full()) await new Promise<void>((r) => (this.#room = r));
        const sink = this.#sink;
        if (sink) {
          if (!sink.sendEvent(runId, bytes)) await sink.drained();
        } else if (!this.#abandoned) {
          this.#buffer.push({ seq: event.seq, bytes });
          this.#bufferedBytes += bytes.byteLength;
        }
      }
    } catch (error) {
      this.logger.error('reading a run failed', { runId, error: String(error) });
      await run.cancel('the agent could not read the run');
    } finally {
      this.#ended = true;
      this.logger.debug('run ended', { runId, status: (await run.result).status });
    }
  }

  #full(): boolean {
    return (
      this.#buffer.length > 0 &&
      (this.#buffer.length >= this.limits.maxEvents || this.#bufferedBytes >= this.limits.maxBytes)
    );
  }

  /**
   * No link carries the run from now on (those events already queued on the old one still go out there): its
   * events are buffered, and `onExpired` is called if no attach comes within the limit (the run is cancelled).
   */
  detach(onExpired: () => void): void {
    this.#sink = undefined;
    this.sessions?.park();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#abandoned = true;
      this.#buffer.length = 0;
      this.#bufferedBytes = 0;
      this.#room?.();
      if (!this.#ended)
        this.logger.warn('no platform instance took the detached run over in time; cancelling it', {
          runId: this.runId,
          ttlMs: this.limits.ttlMs,
        });
      onExpired();
      void this.run.cancel(`no platform instance re-attached to the run within ${this.limits.ttlMs} ms`);
    }, this.limits.ttlMs);
    this.#timer.unref?.();
  }

  /**
   * Puts the run on `sink`, its buffered events after `afterSeq` first. Throws EVENTS_LOST (nothing done) when
   * an event after `afterSeq` is not buffered: taking the run over would leave a gap.
   */
  attach(sink: EventSink, afterSeq: number, sessions: Parameters<RunSessionChannel['moveTo']>[0] | undefined): void {
    const first = this.#buffer[0]?.seq ?? this.#lastSeq + 1;
    if (this.#abandoned || (afterSeq < this.#lastSeq && first > afterSeq + 1)) {
      throw new ForgeError(
        CarriedRunCodes.EVENTS_LOST,
        `Events of run ${this.runId} after ${afterSeq} are no longer kept here (the oldest kept is ${first})`,
        'conflict',
        { details: { runId: this.runId, afterSeq, firstBufferedSeq: first } },
      );
    }
    clearTimeout(this.#timer);
    for (const e of this.#buffer) if (e.seq > afterSeq) sink.sendEvent(this.runId, e.bytes);
    this.#buffer.length = 0;
    this.#bufferedBytes = 0;
    this.#sink = sink;
    if (sessions) this.sessions?.moveTo(sessions);
    const wake = this.#room;
    this.#room = undefined;
    wake?.();
  }

  /** Cancels the run (the agent is stopping); a detached one waits no longer. */
  cancel(reason: string): Promise<void> {
    clearTimeout(this.#timer);
    return this.run.cancel(reason).then(() => undefined);
  }
}
