import type { AgentRun, PermissionDecision } from './agent.js';
import { CoreErrorCode } from './error-codes.js';
import { ForgeError, NotFoundError, UnsupportedError } from './errors.js';
import type { AsyncQueue } from './async-queue.js';
import {
  addUsage,
  emptyUsage,
  type AgentEvent,
  type AgentResult,
  type FileChange,
  type RunStatus,
  type Usage,
} from './events.js';
import { runEventQueue } from './run.js';
import {
  checkAnswerShape,
  checkDecision,
  checkSteeringText,
  type PendingRequest,
  PendingRequests,
} from './pending-requests.js';
import type { Clock } from './clock.js';

/** How a relayed run reaches the run it mirrors; one implementation per link (gRPC stream, dial-home session…). */
export interface RunLink {
  cancel(runId: string, reason?: string): void;
  respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void>;
  /** Absent on links that cannot carry answers (an older peer): `run.answer` is then UnsupportedError. */
  answer?(runId: string, questionId: string, answers: string[][]): Promise<void>;
  /**
   * Absent on links that cannot carry a steering message: `run.steer` is then UnsupportedError. The other side's
   * agent refuses it (UnsupportedError) when it does not declare `steering`.
   */
  steer?(runId: string, text: string): Promise<void>;
}

/** How a relayed run ends on this side when the other side cannot end it (link broken, refused, silent). */
export interface LocalEnd {
  status: RunStatus;
  code: string;
  message: string;
  /** Also emit an `error` event before run.completed, carrying these. */
  errorEvent?: { retryable: boolean; details?: Record<string, unknown> };
}

export interface RelayedRunOptions {
  runId: string;
  /** The `provider` of events this side makes, and of relayed ones unless `keepProvider`. */
  provider: string;
  /** Relayed events keep the provider the other side gave them. Default false. */
  keepProvider?: boolean;
  clock: Clock;
  link: RunLink;
  signal?: AbortSignal;
  /** The request's timeoutMs: the other side enforces it; this side only backs it up. */
  timeoutMs?: number;
  /** How long past a cancel or timeout to wait for the other side's run.completed before ending here. */
  stopGraceMs: number;
  /** Unread events above which `deliver` returns false (the reader should `await drained()`). Default: never. */
  highWaterMark?: number;
  /**
   * Unread events at which the run fails with EVENT_BUFFER_OVERFLOW and the other side's run is
   * cancelled — for links that cannot pause for one slow reader. Default: unbounded.
   */
  maxBufferedEvents?: number;
  onEnd(run: RelayedRun): void;
  /**
   * The run was started elsewhere and this side takes it over (re-attaches) after the event with this seq: the
   * next event must be `afterSeq + 1`, and an end made here follows it. Default 0 (a run started here).
   */
  afterSeq?: number;
  /**
   * With `afterSeq`: the permission.requested / question.requested events up to it that still wait (the
   * taking-over side read them before), so replies to them are taken here as for a run started here.
   */
  pending?: readonly AgentEvent[];
}

/**
 * A run whose events come from a run elsewhere (another process, a pod, an agent that dialled in).
 * Events pass through with their seq, time and raw; whatever happens to the link, the run ends here
 * with the guarantees of a local run: seq without gaps and exactly one run.completed.
 */
export class RelayedRun implements AgentRun {
  readonly id: string;
  readonly provider: string;
  readonly result: Promise<AgentResult>;
  private readonly queue: AsyncQueue<AgentEvent>;
  private readonly startedAt: number;
  private resolveResult!: (r: AgentResult) => void;
  private finished = false;
  private localEnd = false;
  private lastSeq = 0;
  private readonly waiting = new PendingRequests();
  /**
   * Requests the other side settled itself (an approval rule, an unanswered deadline) — known from its
   * permission.resolved / question.resolved — as `permission:<id>` / `question:<id>`: no longer pending here.
   */
  private readonly settledThere = new Set<string>();
  private sessionId: string | undefined;
  private lastMessage = '';
  private usage: Usage | undefined;
  /** The far run's file.changed events so far, by path (last change last), for a result made on this side. */
  private readonly files = new Map<string, FileChange>();
  private stopRequested = false;
  private cancelSent = false;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => void this.cancel('the caller aborted the signal');

  constructor(private readonly options: RelayedRunOptions) {
    this.id = options.runId;
    this.provider = options.provider;
    this.startedAt = options.clock.now();
    this.lastSeq = options.afterSeq ?? 0;
    this.queue = runEventQueue(
      options.highWaterMark ?? Number.POSITIVE_INFINITY,
      options.maxBufferedEvents ?? Number.POSITIVE_INFINITY,
    );
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    if (options.signal?.aborted) {
      this.endLocally({
        status: 'cancelled',
        code: 'CANCELLED',
        message: 'The run was cancelled: the signal was already aborted',
      });
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    for (const event of options.pending ?? []) this.observeRequest(event);
    if (options.timeoutMs !== undefined) {
      // The other side times the run out itself; this only covers one that cannot say so.
      this.timeoutTimer = setTimeout(() => {
        this.armStop(
          { status: 'timed_out', code: 'TIMED_OUT', message: `The run exceeded its timeout: ${options.timeoutMs} ms` },
          true,
        );
      }, options.timeoutMs);
      this.timeoutTimer.unref?.();
    }
  }

  get ended(): boolean {
    return this.finished;
  }

  /** True when this side ended the run rather than the other side's run.completed. */
  get endedHere(): boolean {
    return this.localEnd;
  }

  /** An event from the link. Returns false when the reader is behind (see `drained`). */
  deliver(event: AgentEvent): boolean {
    if (this.finished) return true;
    if (event.seq !== this.lastSeq + 1) {
      // Never hand out a broken sequence: a gap means the link lost something.
      this.options.link.cancel(this.id, 'events were lost in transit');
      this.endLocally({
        status: 'failed',
        code: 'TRANSPORT_BROKEN',
        message: `Event ${event.seq} of run ${this.id} arrived after ${this.lastSeq}; events were lost in transit`,
        errorEvent: { retryable: false },
      });
      return true;
    }
    this.lastSeq = event.seq;
    if (event.runId !== this.id) event.runId = this.id;
    if (!this.options.keepProvider) event.provider = this.provider;
    if (event.type === 'run.completed') {
      this.finish(event);
      return true;
    }
    this.track(event);
    this.observeRequest(event);
    try {
      return this.queue.push(event);
    } catch {
      this.lastSeq--;
      this.options.link.cancel(this.id, 'the reader fell too far behind');
      this.endLocally({
        status: 'failed',
        code: 'EVENT_BUFFER_OVERFLOW',
        message: `More than ${this.options.maxBufferedEvents} events of run ${this.id} are unread; the run was stopped`,
        errorEvent: { retryable: false },
      });
      return true;
    }
  }

  private observeRequest(event: AgentEvent): void {
    if (event.type === 'permission.requested' || event.type === 'question.requested') {
      this.waiting.observe(event);
      this.settledThere.delete(`${event.type === 'permission.requested' ? 'permission' : 'question'}:${event.id}`);
    } else if (event.type === 'permission.resolved') this.settledThere.add(`permission:${event.id}`);
    else if (event.type === 'question.resolved') this.settledThere.add(`question:${event.id}`);
  }

  /** The same NotFoundError core gives for an id that is not waiting. */
  private refuseSettled(kind: 'permission' | 'question', id: string): void {
    if (!this.settledThere.has(`${kind}:${id}`)) return;
    throw kind === 'permission'
      ? new NotFoundError(CoreErrorCode.PERMISSION_NOT_FOUND, `No permission request ${id} is waiting`, { id })
      : new NotFoundError(CoreErrorCode.QUESTION_NOT_FOUND, `No question ${id} is waiting`, { id });
  }

  drained(): Promise<void> {
    return this.queue.drained();
  }

  /** Ends the run on this side. A no-op once the run has ended. */
  endLocally(end: LocalEnd): void {
    if (this.finished) return;
    this.localEnd = true;
    const envelope = () => ({
      runId: this.id,
      seq: ++this.lastSeq,
      time: this.options.clock.now(),
      provider: this.provider,
    });
    if (end.errorEvent) {
      const error: AgentEvent = {
        ...envelope(),
        type: 'error',
        code: end.code,
        message: end.message,
        retryable: end.errorEvent.retryable,
      };
      if (end.errorEvent.details) error.details = end.errorEvent.details;
      this.queue.pushFinal(error);
    }
    const result: AgentResult = {
      status: end.status,
      text: this.lastMessage,
      usage: this.usage ?? emptyUsage(),
      durationMs: Math.max(0, this.options.clock.now() - this.startedAt),
      turns: 0,
      error: {
        code: end.code,
        message: end.message,
        ...(end.errorEvent ? { retryable: end.errorEvent.retryable } : {}),
      },
    };
    if (this.sessionId !== undefined) result.sessionId = this.sessionId;
    if (this.files.size > 0) result.filesChanged = [...this.files.values()];
    this.finish({ ...envelope(), type: 'run.completed', result });
  }

  cancel(reason?: string): Promise<AgentResult> {
    if (!this.finished && !this.cancelSent) {
      this.cancelSent = true;
      this.options.link.cancel(this.id, reason);
      this.armStop({
        status: 'cancelled',
        code: 'CANCELLED',
        message: `The run was cancelled${reason ? `: ${reason}` : ''}`,
      });
    }
    return this.result;
  }

  async respond(permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    checkDecision(decision);
    if (this.finished) throw this.finishedError();
    this.refuseSettled('permission', permissionId);
    const asked = this.waiting.takePermission(permissionId);
    try {
      await this.options.link.respond(this.id, permissionId, decision, message);
    } catch (error) {
      if (!this.finished && !this.settledThere.has(`permission:${permissionId}`)) this.waiting.restorePermission(asked);
      throw error;
    }
  }

  async answer(questionId: string, answers: string[][]): Promise<void> {
    checkAnswerShape(answers);
    if (this.finished) throw this.finishedError();
    const link = this.options.link;
    if (!link.answer) throw new UnsupportedError(this.provider, 'answering questions over this link');
    this.refuseSettled('question', questionId);
    const questions = this.waiting.takeQuestion(questionId, answers);
    try {
      await link.answer(this.id, questionId, answers);
    } catch (error) {
      if (!this.finished && !this.settledThere.has(`question:${questionId}`)) this.waiting.restoreQuestion(questions);
      throw error;
    }
  }

  pending(): PendingRequest[] {
    return this.waiting
      .list()
      .filter(
        (e) => !this.settledThere.has(`${e.type === 'permission.requested' ? 'permission' : 'question'}:${e.id}`),
      );
  }

  async steer(text: string): Promise<void> {
    checkSteeringText(text);
    if (this.finished) throw this.finishedError();
    const link = this.options.link;
    if (!link.steer) throw new UnsupportedError(this.provider, 'steering over this link');
    await link.steer(this.id, text);
  }

  private finishedError(): ForgeError {
    return new ForgeError(CoreErrorCode.RUN_FINISHED, `Run ${this.id} has already ended`, 'conflict', {
      details: { runId: this.id },
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** The other side should now end the run; if it stays silent, end it here after the grace period. */
  private armStop(end: LocalEnd, cancelOnExpiry = false): void {
    if (this.finished || this.stopRequested) return;
    this.stopRequested = true;
    this.stopTimer = setTimeout(() => {
      if (cancelOnExpiry && !this.cancelSent) {
        this.cancelSent = true;
        this.options.link.cancel(this.id, 'timed out');
      }
      this.endLocally({
        ...end,
        message: `${end.message} (the agent did not confirm within ${this.options.stopGraceMs} ms)`,
      });
    }, this.options.stopGraceMs);
    this.stopTimer.unref?.();
  }

  private track(event: AgentEvent): void {
    if (event.type === 'session.started') this.sessionId = event.sessionId;
    else if (event.type === 'message' && event.parentToolCallId === undefined) this.lastMessage = event.text;
    else if (event.type === 'usage') this.usage = addUsage(this.usage ?? emptyUsage(), event.usage);
    else if (event.type === 'file.changed') {
      const change: FileChange = { path: event.path, change: event.change };
      if (event.oldPath !== undefined) change.oldPath = event.oldPath;
      this.files.delete(event.path);
      this.files.set(event.path, change);
    }
  }

  private finish(completed: AgentEvent & { type: 'run.completed' }): void {
    if (this.finished) return;
    this.finished = true;
    this.waiting.clear();
    clearTimeout(this.stopTimer);
    clearTimeout(this.timeoutTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.queue.pushFinal(completed);
    this.queue.end();
    this.resolveResult(completed.result);
    this.options.onEnd(this);
  }
}
