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

/** How a RemoteRun reaches its remote twin; one implementation per RPC style. */
export interface RunLink {
  cancel(runId: string, reason?: string): void;
  respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void>;
}

export interface LocalEnd {
  status: RunStatus;
  code: string;
  message: string;
  /** Also emit an `error` event before run.completed, carrying these. */
  errorEvent?: { retryable: boolean; details?: Record<string, unknown> };
}

export interface RemoteRunOptions {
  runId: string;
  provider: string;
  clock: Clock;
  link: RunLink;
  signal?: AbortSignal;
  /** The request's timeoutMs: the remote enforces it; this end only backs it up. */
  timeoutMs?: number;
  /** How long past a cancel or timeout to wait for the remote's run.completed before ending here. */
  stopGraceMs: number;
  /** Unread events above which `deliver` asks the wire reader to pause. */
  highWaterMark: number;
  onEnd(run: RemoteRun): void;
}

/**
 * The host-side twin of a run on the remote agent. Events from the wire pass through untouched
 * (but for `provider`, which names this agent); when the link fails, the run ends here with the
 * same guarantees a local run has: seq without gaps and exactly one run.completed.
 */
export class RemoteRun implements AgentRun {
  readonly id: string;
  readonly provider: string;
  readonly result: Promise<AgentResult>;
  private readonly queue: EventQueue<AgentEvent>;
  private readonly startedAt: number;
  private resolveResult!: (r: AgentResult) => void;
  private finished = false;
  private localEnd = false;
  private lastSeq = 0;
  private sessionId: string | undefined;
  private lastMessage = '';
  private usage: Usage | undefined;
  private stopRequested = false;
  private cancelSent = false;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => void this.cancel('the caller aborted the signal');

  constructor(private readonly options: RemoteRunOptions) {
    this.id = options.runId;
    this.provider = options.provider;
    this.startedAt = options.clock.now();
    this.queue = new EventQueue({ highWaterMark: options.highWaterMark, maxBuffered: Number.MAX_SAFE_INTEGER });
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    if (options.signal?.aborted) {
      this.endLocally({ status: 'cancelled', code: 'CANCELLED', message: 'The run was cancelled: the signal was already aborted' });
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      // The remote times the run out itself; this only covers a remote that cannot say so.
      this.timeoutTimer = setTimeout(() => {
        this.armStop({ status: 'timed_out', code: 'TIMED_OUT', message: `The run exceeded its timeout: ${options.timeoutMs} ms` }, true);
      }, options.timeoutMs);
      this.timeoutTimer.unref?.();
    }
  }

  get ended(): boolean {
    return this.finished;
  }

  /** True when this side ended the run rather than the remote's run.completed. */
  get endedHere(): boolean {
    return this.localEnd;
  }

  /** An event from the wire. Returns false when the reader is behind (see `drained`). */
  deliver(event: AgentEvent): boolean {
    if (this.finished) return true;
    if (event.seq !== this.lastSeq + 1) {
      // Never hand out a broken sequence: a gap means the link lost something.
      this.endLocally({
        status: 'failed',
        code: 'TRANSPORT_BROKEN',
        message: `Event ${event.seq} of run ${this.id} arrived after ${this.lastSeq}; events were lost in transit`,
        errorEvent: { retryable: false },
      });
      return true;
    }
    this.lastSeq = event.seq;
    event.provider = this.provider;
    if (event.type === 'run.completed') {
      this.finish(event);
      return true;
    }
    this.track(event);
    return this.queue.push(event);
  }

  drained(): Promise<void> {
    return this.queue.drained();
  }

  /** Ends the run on this side (link broken, never started, remote silent after a stop). */
  endLocally(end: LocalEnd): void {
    if (this.finished) return;
    this.localEnd = true;
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

  /** The remote should now end the run; if it stays silent, end it here after the grace period. */
  private armStop(end: LocalEnd, cancelRemoteOnExpiry = false): void {
    if (this.finished || this.stopRequested) return;
    this.stopRequested = true;
    this.stopTimer = setTimeout(() => {
      if (cancelRemoteOnExpiry && !this.cancelSent) {
        this.cancelSent = true;
        this.options.link.cancel(this.id, 'timed out');
      }
      this.endLocally({ ...end, message: `${end.message} (the agent did not confirm within ${this.options.stopGraceMs} ms)` });
    }, this.options.stopGraceMs);
    this.stopTimer.unref?.();
  }

  private track(event: AgentEvent): void {
    if (event.type === 'session.started') this.sessionId = event.sessionId;
    else if (event.type === 'message') this.lastMessage = event.text;
    else if (event.type === 'usage') this.usage = addUsage(this.usage ?? emptyUsage(), event.usage);
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
