import {
  EventQueue,
  ForgeError,
  PERMISSION_DECISIONS,
  ValidationError,
  addUsage,
  emptyUsage,
  type AgentEvent,
  type AgentResult,
  type AgentRun,
  type Clock,
  type PermissionDecision,
  type RunStatus,
  type Usage,
} from '@forge/core';

/** How a run reaches the agent that runs it. */
export interface RunLink {
  cancel(runId: string, reason?: string): void;
  respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void>;
}

/** How a run ends on the platform side when the agent cannot end it (link dropped, refused, silent). */
export interface LocalEnd {
  status: RunStatus;
  code: string;
  message: string;
  /** Also emit an `error` event before run.completed. */
  errorEvent?: { retryable: boolean; details?: Record<string, unknown> };
}

export interface RemoteRunOptions {
  runId: string;
  provider: string;
  clock: Clock;
  link: RunLink;
  signal?: AbortSignal;
  /** The request's timeoutMs: the agent enforces it; this end only backs it up. */
  timeoutMs?: number;
  /** After a cancel or timeout, how long to wait for the agent's run.completed before ending here. */
  stopGraceMs: number;
  /** Unread events at which the run fails (EVENT_BUFFER_OVERFLOW) rather than grow without bound. */
  maxBufferedEvents: number;
  onEnd(run: RemoteRun): void;
}

/**
 * The platform-side twin of a run on a dialled-home agent. Events from the agent pass through
 * with their seq, time and raw; whatever happens to the link, the run ends here with seq
 * without gaps and exactly one run.completed.
 */
export class RemoteRun implements AgentRun {
  readonly id: string;
  readonly provider: string;
  readonly result: Promise<AgentResult>;
  private readonly queue: EventQueue<AgentEvent>;
  private readonly startedAt: number;
  private resolveResult!: (r: AgentResult) => void;
  private finished = false;
  private lastSeq = 0;
  private sessionId: string | undefined;
  private lastMessage = '';
  private usage: Usage | undefined;
  private stopArmed = false;
  private cancelSent = false;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => void this.cancel('the caller aborted the signal');

  constructor(private readonly options: RemoteRunOptions) {
    this.id = options.runId;
    this.provider = options.provider;
    this.startedAt = options.clock.now();
    // No backpressure to the agent: its link also carries heartbeats and other runs, which one
    // slow reader must not stall. The buffer is bounded instead.
    this.queue = new EventQueue({ highWaterMark: Number.MAX_SAFE_INTEGER, maxBuffered: options.maxBufferedEvents });
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    if (options.signal?.aborted) {
      this.endLocally({ status: 'cancelled', code: 'CANCELLED', message: 'The run was cancelled: the signal was already aborted' });
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      this.timeoutTimer = setTimeout(() => {
        this.armStop({ status: 'timed_out', code: 'TIMED_OUT', message: `The run exceeded its timeout: ${options.timeoutMs} ms` }, true);
      }, options.timeoutMs);
      this.timeoutTimer.unref?.();
    }
  }

  get ended(): boolean {
    return this.finished;
  }

  /** An event from the agent. */
  deliver(event: AgentEvent): void {
    if (this.finished) return;
    if (event.seq !== this.lastSeq + 1) {
      this.endLocally({
        status: 'failed',
        code: 'TRANSPORT_BROKEN',
        message: `Event ${event.seq} of run ${this.id} arrived after ${this.lastSeq}; events were lost in transit`,
        errorEvent: { retryable: false },
      });
      this.options.link.cancel(this.id, 'events were lost in transit');
      return;
    }
    this.lastSeq = event.seq;
    if (event.runId !== this.id) event.runId = this.id;
    if (event.type === 'run.completed') {
      this.finish(event);
      return;
    }
    if (event.type === 'session.started') this.sessionId = event.sessionId;
    else if (event.type === 'message') this.lastMessage = event.text;
    else if (event.type === 'usage') this.usage = addUsage(this.usage ?? emptyUsage(), event.usage);
    try {
      this.queue.push(event);
    } catch {
      this.lastSeq--;
      this.options.link.cancel(this.id, 'the platform-side reader fell too far behind');
      this.endLocally({
        status: 'failed',
        code: 'EVENT_BUFFER_OVERFLOW',
        message: `More than ${this.options.maxBufferedEvents} events of run ${this.id} are unread; the run was stopped`,
        errorEvent: { retryable: false },
      });
    }
  }

  /** Ends the run on this side. Idempotent; a no-op once the run has ended. */
  endLocally(end: LocalEnd): void {
    if (this.finished) return;
    const envelope = () => ({ runId: this.id, seq: ++this.lastSeq, time: this.options.clock.now(), provider: this.provider });
    if (end.errorEvent) {
      const error: AgentEvent = { ...envelope(), type: 'error', code: end.code, message: end.message, retryable: end.errorEvent.retryable };
      if (end.errorEvent.details) error.details = end.errorEvent.details;
      this.queue.pushFinal(error);
    }
    const result: AgentResult = {
      status: end.status,
      text: this.lastMessage,
      usage: this.usage ?? emptyUsage(),
      durationMs: Math.max(0, this.options.clock.now() - this.startedAt),
      turns: 0,
      error: { code: end.code, message: end.message, ...(end.errorEvent ? { retryable: end.errorEvent.retryable } : {}) },
    };
    if (this.sessionId !== undefined) result.sessionId = this.sessionId;
    this.finish({ ...envelope(), type: 'run.completed', result });
  }

  cancel(reason?: string): Promise<AgentResult> {
    if (!this.finished && !this.cancelSent) {
      this.cancelSent = true;
      this.options.link.cancel(this.id, reason);
      this.armStop({ status: 'cancelled', code: 'CANCELLED', message: `The run was cancelled${reason ? `: ${reason}` : ''}` });
    }
    return this.result;
  }

  async respond(permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    if (!PERMISSION_DECISIONS.includes(decision)) {
      throw new ValidationError('INVALID_DECISION', `decision must be one of ${PERMISSION_DECISIONS.join(', ')}`, [
        { path: 'decision', code: 'INVALID_DECISION', message: `got ${String(decision)}` },
      ]);
    }
    if (this.finished) throw new ForgeError('RUN_FINISHED', `Run ${this.id} has already ended`, 'conflict');
    await this.options.link.respond(this.id, permissionId, decision, message);
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  private armStop(end: LocalEnd, cancelOnExpiry = false): void {
    if (this.finished || this.stopArmed) return;
    this.stopArmed = true;
    this.stopTimer = setTimeout(() => {
      if (cancelOnExpiry && !this.cancelSent) {
        this.cancelSent = true;
        this.options.link.cancel(this.id, 'timed out');
      }
      this.endLocally({ ...end, message: `${end.message} (the agent did not confirm within ${this.options.stopGraceMs} ms)` });
    }, this.options.stopGraceMs);
    this.stopTimer.unref?.();
  }

  private finish(completed: AgentEvent & { type: 'run.completed' }): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.stopTimer);
    clearTimeout(this.timeoutTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.queue.pushFinal(completed);
    this.queue.close();
    this.resolveResult(completed.result);
    this.options.onEnd(this);
  }
}
