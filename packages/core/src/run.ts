import type { AgentRun, PermissionDecision } from './agent.js';
import { CoreErrorCode } from './error-codes.js';
import { boundValue } from './bounded-value.js';
import { ForgeError, UnsupportedError, describeError } from './errors.js';
import { EventBound } from './bound-event.js';
import { runEventQueue } from './run-event-queue.js';
import {
  addUsage,
  emptyUsage,
  type AgentEvent,
  type AgentEventInit,
  type AgentResult,
  type FileChange,
  type Usage,
} from './events.js';
import { checkAnswerShape, checkDecision, checkSteeringText, PendingRequests } from './pending-requests.js';
import type { AgentRequest } from './request.js';
import { systemClock, type Clock } from './clock.js';
import { silentLogger, type Logger } from './logger.js';
import type { Pricing } from './agent-policy-options.js';
import { OUTPUT_SCHEMA_MISMATCH, runOutputTurns } from './output-turns.js';
import type { OutputCheck } from './output-validator.js';
import { RunGuards } from './run-guards.js';
import type { StructuredOutputMode } from './structured-output.js';

export type StopReason = 'cancelled' | 'timed_out';

/** What an adapter's run function returns; the run fills in the rest. */
export interface RunOutcome {
  status?: 'completed' | 'failed';
  text?: string;
  sessionId?: string;
  usage?: Usage;
  costUsd?: number;
  turns?: number;
  error?: { code: string; message: string; retryable?: boolean };
  /** The answer checked against `request.outputSchema` (adapters that declare `structuredOutput`). */
  output?: unknown;
  /** Every file the run changed, once per path. */
  filesChanged?: FileChange[];
  /** The provider's native final message, kept as the `raw` of `run.completed`. */
  raw?: unknown;
}

export type PermissionResponder = (
  permissionId: string,
  decision: PermissionDecision,
  message?: string,
) => Promise<void>;

/** Answers a `question.requested` event; the answers were checked against the questions already. */
export type QuestionAnswerer = (questionId: string, answers: string[][]) => Promise<void>;

/** Delivers a steering message to the running agent (`run.steer`). */
export type Steerer = (text: string) => Promise<void>;

/** What a run function gets: the validated request, a way to emit events, and a signal for stopping. */
export interface RunContext {
  readonly runId: string;
  readonly provider: string;
  /**
   * The request of this call of the run function: the caller's, or a repair turn's (same session, a prompt saying
   * what did not match `outputSchema`); an emulating adapter's prompt already carries the output instruction.
   */
  readonly request: AgentRequest;
  /** Aborted when the run is cancelled, times out, or has ended; its `reason` is the StopReason. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Why the run is stopping, once it is. */
  readonly stopReason: StopReason | undefined;
  /** The session id last announced by `session.started` (or set by `setSessionId`). */
  readonly sessionId: string | undefined;
  /** Emits an event; false means the reader is behind and the producer should `await drained()`. */
  emit(event: AgentEventInit): boolean;
  /**
   * Resolves when the reader has caught up, and at once when the run is stopping (cancel, timeout):
   * a producer waiting on a reader that may never read again must not hang.
   */
  drained(): Promise<void>;
  setSessionId(sessionId: string): void;
  /** Install the handler behind `run.respond()`. */
  onRespond(responder: PermissionResponder): void;
  /** Install the handler behind `run.answer()`. */
  onAnswer(answerer: QuestionAnswerer): void;
  /** Install the handler behind `run.steer()`; only adapters that declare `steering` do. */
  onSteer(steerer: Steerer): void;
}

export type RunFunction = (ctx: RunContext) => Promise<RunOutcome>;

export interface RunOptions {
  clock?: Clock;
  logger?: Logger;
  /** How long a stopping run function may take before the run ends without it. Default 10 s. */
  stopGraceMs?: number;
  /** Unread events above which `emit` asks for backpressure. Default 1,000. */
  highWaterMark?: number;
  /** Unread events at which the run fails with EVENT_BUFFER_OVERFLOW instead of dropping. Default 100,000. */
  maxBufferedEvents?: number;
}

export interface StartRunOptions extends RunOptions {
  runId: string;
  provider: string;
  request: AgentRequest;
  signal?: AbortSignal;
  run: RunFunction;
  /** Called once when the run has ended, whatever the way. */
  onEnd?: (result: AgentResult) => void;
  /**
   * How the adapter honours `request.outputSchema` and the check of this request's schema: the answer is checked,
   * repaired in the same session, or the run fails OUTPUT_SCHEMA_MISMATCH. Absent: the outcome's output is kept.
   */
  output?: { mode: StructuredOutputMode; check: OutputCheck };
  /** Token prices for `budget.maxCostUsd` where the provider reports no cost. */
  pricing?: Pricing;
}

const STOP_CODES: Record<StopReason, { code: string; message: string }> = {
  cancelled: { code: 'CANCELLED', message: 'The run was cancelled' },
  timed_out: { code: 'TIMED_OUT', message: 'The run exceeded its timeout' },
};

/**
 * Builds an AgentRun around an adapter's run function, and owns every rule a run must keep: seq
 * without gaps, exactly one final `run.completed`, idempotent cancel at any moment, abort signal,
 * timeout, and a bounded wait for a run function that does not stop when asked.
 */
export function startRun(options: StartRunOptions): AgentRun {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const queue = runEventQueue(options.highWaterMark ?? 1_000, options.maxBufferedEvents ?? 100_000);
  const startedAt = clock.now();
  const controller = new AbortController();
  const { runId, provider, request } = options;

  let seq = 0;
  let finished = false;
  let stopReason: StopReason | undefined;
  let stopDetail: string | undefined;
  // A policy (budget, an unanswered question) stopped the run: the adapter sees a cancel, the result says failed.
  let failure: { code: string; message: string } | undefined;
  let currentRequest = request;
  let sessionId: string | undefined;
  let lastMessage = '';
  let usage: Usage | undefined;
  let responder: PermissionResponder | undefined;
  let answerer: QuestionAnswerer | undefined;
  let steerer: Steerer | undefined;
  // Settles once the run function has been called: a steer that comes first waits for it to install its handler.
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const pending = new PendingRequests();
  const eventBound = new EventBound();
  const policy = new RunGuards(
    request,
    {
      responder: () => responder,
      emit: (init) => {
        ctx.emit(init);
      },
      dropPermission: (id) => pending.drop(id),
      dropQuestion: (id) => pending.drop(id),
      cancel: (detail) => stop('cancelled', detail),
      fail: (code, message) => fail(code, message),
      logger,
    },
    options.pricing,
  );
  // Most runs have no policy: their events skip the guards.
  const guards = policy.idle ? undefined : policy;
  let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveResult!: (r: AgentResult) => void;
  const result = new Promise<AgentResult>((resolve) => {
    resolveResult = resolve;
  });

  const envelope = () => ({ runId, seq: ++seq, time: clock.now(), provider });

  const finish = (outcome: RunOutcome): void => {
    if (finished) return;
    finished = true;
    pending.clear();
    guards?.dispose();
    if (timeoutTimer) clearTimeout(timeoutTimer);
    if (graceTimer) clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onExternalAbort);
    const status = failure ? 'failed' : (stopReason ?? outcome.status ?? 'completed');
    const res: AgentResult = {
      status,
      text: outcome.text ?? lastMessage,
      usage: outcome.usage ?? usage ?? emptyUsage(),
      durationMs: Math.max(0, clock.now() - startedAt),
      turns: outcome.turns ?? 0,
    };
    const sid = outcome.sessionId ?? sessionId;
    if (sid !== undefined) res.sessionId = sid;
    if (outcome.costUsd !== undefined) res.costUsd = outcome.costUsd;
    if (outcome.output !== undefined) res.output = boundValue(outcome.output);
    if (outcome.filesChanged !== undefined) res.filesChanged = outcome.filesChanged;
    if (failure) {
      res.error = failure;
    } else if (stopReason) {
      const base = STOP_CODES[stopReason];
      res.error = { code: base.code, message: stopDetail ? `${base.message}: ${stopDetail}` : base.message };
    } else if (status !== 'completed') {
      res.error = outcome.error ?? { code: 'PROVIDER_ERROR', message: 'The provider reported a failure' };
    }
    const completed: AgentEvent = { ...envelope(), type: 'run.completed', result: res };
    if (outcome.raw !== undefined) completed.raw = boundValue(outcome.raw);
    queue.pushFinal(completed);
    queue.end();
    if (!controller.signal.aborted) controller.abort('finished');
    resolveResult(res);
    options.onEnd?.(res);
  };

  const stop = (reason: StopReason, detail?: string): void => {
    if (finished || stopReason) return;
    stopReason = reason;
    stopDetail = detail;
    controller.abort(reason);
    graceTimer = setTimeout(() => {
      logger.warn('run did not stop within its grace period; ending it without the provider', {
        runId,
        provider,
        stopGraceMs,
      });
      finish({});
    }, stopGraceMs);
    graceTimer.unref?.();
  };

  const fail = (code: string, message: string): void => {
    if (finished || stopReason) return;
    failure = { code, message };
    stop('cancelled', message);
  };

  const onExternalAbort = () => stop('cancelled', abortDetail(options.signal!, 'the caller aborted the signal'));

  const ctx: RunContext = {
    runId,
    provider,
    get request() {
      return currentRequest;
    },
    signal: controller.signal,
    clock,
    logger,
    get stopReason() {
      return stopReason;
    },
    get sessionId() {
      return sessionId;
    },
    emit(init: AgentEventInit): boolean {
      if (finished) return false;
      if ((init as { type: string }).type === 'run.completed') {
        throw new ForgeError('INVALID_EVENT', 'run.completed is emitted by the run itself', 'internal');
      }
      if (init.type === 'session.started') sessionId = init.sessionId;
      else if (init.type === 'message' && init.parentToolCallId === undefined) lastMessage = init.text;
      else if (init.type === 'usage') usage = addUsage(usage ?? emptyUsage(), init.usage);
      else if (init.type === 'permission.requested' && guards?.decide(init.id, init.tool, init.input)) return !finished;
      // Envelope first, then the init's fields: adding properties after a spread is ~10× slower in V8.
      const s = ++seq;
      const event = { runId, seq: s, time: clock.now(), provider, ...init } as AgentEvent;
      if (event.seq !== s || event.runId !== runId || event.provider !== provider) {
        // An adapter passed envelope fields of its own; the run's own always win.
        Object.assign(event, { runId, seq: s, provider });
      }
      eventBound.bound(event);
      pending.observe(event);
      try {
        const more = queue.push(event);
        guards?.observe(event);
        return more;
      } catch (error) {
        // Never drop silently: the run ends as failed, loudly.
        seq--;
        logger.error('event buffer overflow; failing the run', { runId, provider });
        const { code, message } = describeError(error);
        stopReason = undefined;
        controller.abort('overflow');
        finish({ status: 'failed', error: { code, message } });
        return false;
      }
    },
    drained: () => (controller.signal.aborted ? Promise.resolve() : untilAborted(queue.drained(), controller.signal)),
    setSessionId(id: string) {
      sessionId = id;
    },
    onRespond(r: PermissionResponder) {
      responder = r;
    },
    onAnswer(a: QuestionAnswerer) {
      answerer = a;
    },
    onSteer(s: Steerer) {
      steerer = s;
    },
  };

  if (request.timeoutMs !== undefined) {
    timeoutTimer = setTimeout(() => stop('timed_out', `${request.timeoutMs} ms`), request.timeoutMs);
    timeoutTimer.unref?.();
  }
  if (options.signal?.aborted) {
    stop('cancelled', abortDetail(options.signal, 'the signal was already aborted'));
    finish({});
  } else {
    options.signal?.addEventListener('abort', onExternalAbort, { once: true });
    // Start on a later tick, so `execute` returns before any provider work happens.
    queueMicrotask(() => {
      if (finished) return;
      const callRun = (): Promise<RunOutcome> => {
        try {
          return options.run(ctx);
        } catch (error) {
          return Promise.reject(error);
        }
      };
      const running =
        options.output && request.outputSchema !== undefined
          ? runOutputTurns({
              request: { ...request, outputSchema: request.outputSchema },
              ...options.output,
              runTurn: async (turnRequest) => {
                currentRequest = turnRequest;
                lastMessage = '';
                const outcome = (await callRun()) ?? {};
                return { outcome, lastMessage };
              },
              stopping: () => finished || stopReason !== undefined,
              sessionId: () => sessionId,
              onMismatch: (errors, final) =>
                ctx.emit(
                  final
                    ? {
                        type: 'error',
                        code: OUTPUT_SCHEMA_MISMATCH,
                        message: errors.join('; '),
                        retryable: false,
                        details: { errors },
                      }
                    : {
                        type: 'log',
                        level: 'warn',
                        text: `the answer did not match outputSchema; asking for a repair: ${errors.join('; ')}`,
                      },
                ),
            })
          : callRun();
      markStarted();
      running.then(
        (outcome) => finish(outcome ?? {}),
        (error: unknown) => {
          if (!stopReason) logger.warn('run failed', { runId, provider, error: describeError(error) });
          finish({ status: 'failed', error: describeError(error, 'PROVIDER_ERROR') });
        },
      );
    });
  }

  const run: AgentRun = {
    id: runId,
    provider,
    result,
    cancel(reason?: string) {
      stop('cancelled', reason);
      return result;
    },
    async respond(permissionId: string, decision: PermissionDecision, message?: string) {
      checkDecision(decision);
      if (finished) throw runFinished(runId);
      if (!responder) throw new UnsupportedError(provider, 'permission replies');
      const asked = pending.takePermission(permissionId);
      guards?.answered(permissionId);
      try {
        await responder(permissionId, decision, message);
      } catch (error) {
        if (!finished) pending.restorePermission(asked);
        throw error;
      }
      ctx.emit({ type: 'permission.resolved', id: permissionId, decision, by: 'host' });
    },
    async answer(questionId: string, answers: string[][]) {
      checkAnswerShape(answers);
      if (finished) throw runFinished(runId);
      if (!answerer) throw new UnsupportedError(provider, 'answering questions');
      const asked = pending.takeQuestion(questionId, answers);
      guards?.answered(questionId);
      try {
        await answerer(questionId, answers);
      } catch (error) {
        if (!finished) pending.restoreQuestion(asked);
        throw error;
      }
      ctx.emit({ type: 'question.resolved', id: questionId, by: 'host' });
    },
    pending: () => pending.list(),
    async steer(text: string) {
      checkSteeringText(text);
      if (finished) throw runFinished(runId);
      if (!steerer) await settledOrEnded(started, result);
      if (finished) throw runFinished(runId);
      if (!steerer) throw new UnsupportedError(provider, 'steering');
      await steerer(text);
    },
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
  return run;
}

function settledOrEnded(p: Promise<void>, result: Promise<unknown>): Promise<unknown> {
  return Promise.race([p, result]);
}

/** The caller's `abort(reason)` kept in the result; a bare `abort()` (a stock AbortError) adds nothing. */
/** `p`, or the abort of `signal` if that comes first; the listener goes with whichever does. */
function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    p.then(done, done);
  });
}

function abortDetail(signal: AbortSignal, what: string): string {
  const reason: unknown = signal.reason;
  let text: string | undefined;
  if (typeof reason === 'string') text = reason;
  else if (
    reason instanceof Error &&
    !(reason.name === 'AbortError' && reason.message === 'This operation was aborted')
  )
    text = reason.message;
  return text ? `${what}: ${text}` : what;
}

function runFinished(runId: string): ForgeError {
  return new ForgeError(CoreErrorCode.RUN_FINISHED, `Run ${runId} has already ended`, 'conflict', {
    details: { runId },
  });
}

// relayed-run.ts and others import the queue from here.
export { runEventQueue };
