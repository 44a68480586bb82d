import {
  RunCommands,
  type RunCommand,
  type RunCommandKind,
  type RunCommandOutcome,
  type RunRecord,
} from '@forge/store';
import type { PermissionDecision } from '@forge/core';
import { ApiError, errorResponse } from '../api-error.js';
import {
  checkAnswerShape,
  checkDecision,
  checkSteerText,
  permissionNotFound,
  questionNotFound,
  runNotRunning,
} from './reply-checks.js';
import type { RunContext } from './run-context.js';

/** Where a relayed reply is applied: the same path as a reply received here. */
export interface LocalReplies {
  respondHere(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: PermissionDecision,
    message: string | undefined,
  ): Promise<{ requestId: string }>;
  answerHere(userId: string, agentId: string, questionId: string, answers: string[][]): Promise<{ requestId: string }>;
  steerHere(userId: string, agentId: string, requestId: string, text: string): Promise<{ requestId: string }>;
}

/** Relayed replies taken per statement. */
const TAKE = 100;

/** An error as the API would answer it, to be stored as a relayed reply's outcome. */
function outcomeOf(error: unknown): RunCommandOutcome {
  const response = errorResponse(error);
  return {
    status: response.status,
    body: response.body,
    ...(Object.keys(response.headers).length ? { headers: response.headers } : {}),
  };
}

/**
 * Replies relayed between instances through `forge_run_commands`: sent to the instance executing a
 * run and waited on, or taken by this one, applied and settled with what it would have answered.
 */
export class ReplyRelay {
  readonly #commands: RunCommands;
  /** Relayed replies this process waits on, by command id: wakes the waiter when its outcome is written. */
  readonly #waiters = new Map<number, () => void>();
  #applying: Promise<void> | undefined;
  #applyAgain = false;
  #commandsSweptAt = 0;
  /** Outcomes applied in this turn of the event loop, written together at the next (`#settle`). */
  readonly #outcomes: Array<{ command: RunCommand; outcome: RunCommandOutcome }> = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly here: LocalReplies,
    /** How long a reply waits for the owner to take it before it is withdrawn (504 REPLY_NOT_DELIVERED). */
    private readonly replyTimeoutMs: number,
  ) {
    this.#commands = new RunCommands(ctx.store.sql);
  }

  /** The pass applying relayed replies in progress, if one is. */
  get applying(): Promise<void> | undefined {
    return this.#applying;
  }

  /** Listens for commands sent to this instance and for the outcomes of those it sent; adds the unlisteners to `unlisten`. */
  async listen(unlisten: Array<() => Promise<void>>): Promise<void> {
    const sent = await this.#commands.onSent(this.ctx.instanceId, () => void this.apply());
    if (sent) unlisten.push(sent);
    const settled = await this.#commands.onSettled((id) => this.#waiters.get(id)?.());
    if (settled) unlisten.push(settled);
  }

  /** Removes, at most once a minute, commands whose sender died waiting (senders remove their own). */
  async sweep(now: number): Promise<void> {
    if (now - this.#commandsSweptAt < 60_000) return;
    this.#commandsSweptAt = now;
    await this.#commands.sweep(now - Math.max(600_000, 10 * this.replyTimeoutMs));
  }

  /**
   * Sends a reply to the instance executing `run` and answers what it answered. It is withdrawn
   * (so never applied later) when that instance has not taken it within the reply timeout (504
   * REPLY_NOT_DELIVERED), when the run ends or changes hands first (the 404 its owner gives for
   * a run no longer waiting), or when the caller gives up.
   */
  async relay(
    run: RelayedRun,
    kind: RunCommandKind,
    targetId: string,
    payload: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<{ requestId: string }> {
    if (this.ctx.closed) throw shuttingDown();
    const command = await this.#commands.send({
      requestId: run.requestId,
      owner: run.owner!,
      kind,
      targetId,
      payload,
      now: this.ctx.now(),
    });
    return answered(await this.#await(command, run, signal));
  }

  /**
   * As `relay`, to the run the agent is executing on another instance, looked up and sent to in one
   * statement. Undefined (nothing sent) when no other instance runs one of the agent's runs.
   */
  async relayToRunOf(
    userId: string,
    agentId: string,
    kind: RunCommandKind,
    targetId: string,
    payload: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<{ requestId: string } | undefined> {
    if (this.ctx.closed) throw shuttingDown();
    const command = await this.#commands.sendToRunOf({
      userId,
      agentId,
      except: this.ctx.instanceId,
      kind,
      targetId,
      payload,
      now: this.ctx.now(),
    });
    if (!command) return undefined;
    return answered(
      await this.#await(command, { requestId: command.requestId, owner: command.owner, agentId }, signal),
    );
  }

  /** Waits for what became of a command sent (see `relay`), withdrawing it when nobody took it in time. */
  async #await(command: RunCommand, run: RelayedRun, signal: AbortSignal | undefined): Promise<RunCommandOutcome> {
    const { kind, targetId } = command;
    const owner = run.owner!;
    const stop = AbortSignal.any([...(signal ? [signal] : []), this.ctx.closing.signal]);
    const deadline = this.ctx.now() + this.replyTimeoutMs;
    const notFound = outcomeOf(
      kind === 'permission'
        ? permissionNotFound(run.agentId, targetId)
        : kind === 'question'
          ? questionNotFound(run.agentId, targetId)
          : runNotRunning(targetId),
    );
    const notDelivered = outcomeOf(
      new ApiError(
        504,
        'REPLY_NOT_DELIVERED',
        `The platform instance running run ${run.requestId} did not take the reply within ${this.replyTimeoutMs} ms; it was not delivered, send it again`,
        { 'retry-after': '1' },
        { retryable: true },
      ),
    );
    let woken = false;
    /** The last wait ended by the clock, not by a notification: time to look at the run itself. */
    let polled = false;
    let wake: (() => void) | undefined;
    this.#waiters.set(command.id, () => {
      woken = true;
      wake?.();
    });
    const onStop = () => wake?.();
    stop.addEventListener('abort', onStop, { once: true });
    /** Read and removed in one statement (`consume`): nothing left to remove. */
    let consumed = false;
    /** The first pass knows the command as it was sent (pending): nothing to read yet. */
    let sent: RunCommand | undefined = command;
    try {
      for (;;) {
        const settled = woken;
        woken = false;
        const now = this.ctx.now();
        if (settled) {
          // Woken by its settlement: the outcome is most likely there; read it and remove it at once.
          const done = await this.#commands.consume(command.id);
          if (done?.outcome) {
            consumed = true;
            return done.outcome;
          }
        }
        const current = sent ?? (await this.#commands.get(command.id));
        sent = undefined;
        if (current?.outcome && (current.state === 'done' || current.state === 'refused')) return current.outcome;
        if (!current) return notDelivered; // swept: nobody took it in all that time
        if (current.state === 'pending') {
          let give: RunCommandOutcome | undefined;
          if (stop.aborted || now >= deadline) give = notDelivered;
          else if (polled) {
            // Its owner ended the run, died (lease lapsed) or lost it: nobody will take the reply.
            const latest = await this.ctx.store.runs.get(run.requestId);
            if (latest?.status !== 'running' || latest.owner !== owner || (latest.leaseUntil ?? 0) < now)
              give = notFound;
          }
          if (give && (await this.#commands.withdraw(command.id, give, now))) {
            if (stop.aborted) throw this.#stopped(signal);
            return give;
          }
          // Not withdrawn: the owner took it meanwhile; its outcome follows.
          if (give) continue;
        } else if (stop.aborted) {
          throw this.#stopped(signal);
        } else if (now >= deadline + this.replyTimeoutMs) {
          return outcomeOf(
            new ApiError(
              504,
              'REPLY_NOT_CONFIRMED',
              `The platform instance running run ${run.requestId} took the reply but did not confirm it; read the run's events to see whether it arrived`,
              {},
              { retryable: false },
            ),
          );
        }
        if (woken) continue;
        const until = current.state === 'pending' ? deadline : deadline + this.replyTimeoutMs;
        polled = false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              polled = true;
              resolve();
            },
            Math.min(this.ctx.followPollMs, Math.max(1, until - now)),
          );
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          if (stop.aborted) wake();
        });
        wake = undefined;
      }
    } finally {
      stop.removeEventListener('abort', onStop);
      this.#waiters.delete(command.id);
      if (!consumed)
        await this.#commands
          .remove(command.id)
          .catch((error: unknown) =>
            this.ctx.logger.warn('could not remove a relayed reply', { error: String(error) }),
          );
    }
  }

  #stopped(signal: AbortSignal | undefined): ApiError {
    return signal?.aborted
      ? // Nobody reads it: the client is gone. Not a 5xx, so it is not logged as a failure.
        new ApiError(499, 'CLIENT_CLOSED_REQUEST', 'The client went away before the reply was delivered')
      : new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
  }

  /** Takes the replies other instances relayed to this one and applies them; concurrent calls share one pass. */
  apply(): Promise<void> {
    if (this.ctx.closed) return Promise.resolve();
    if (this.#applying) {
      this.#applyAgain = true;
      return this.#applying;
    }
    const pass = (async () => {
      try {
        do {
          this.#applyAgain = false;
          for (let taken = await this.#commands.take(this.ctx.instanceId, TAKE); taken.length && !this.ctx.closed; ) {
            // Each on its own, as replies received here are: one slow agent does not hold up the others.
            for (const command of taken) void this.#applyOne(command);
            // A short batch was all there was; a command sent since wakes another pass.
            taken = taken.length === TAKE ? await this.#commands.take(this.ctx.instanceId, TAKE) : [];
          }
        } while (this.#applyAgain && !this.ctx.closed);
      } catch (error) {
        this.ctx.logger.warn('could not take relayed replies', { error: String(error) });
      }
    })();
    const current: Promise<void> = pass.finally(() => {
      if (this.#applying === current) this.#applying = undefined;
    });
    this.#applying = current;
    return current;
  }

  /** Applies a relayed reply through the same checks and path as one received here, and writes what it came to. */
  async #applyOne(command: RunCommand): Promise<void> {
    let outcome: RunCommandOutcome;
    try {
      const { user_id: userId, agent_id: agentId } = command.payload as { user_id: string; agent_id: string };
      const p = command.payload;
      let done: { requestId: string };
      if (command.kind === 'permission') {
        checkDecision(p.decision);
        const message = typeof p.message === 'string' ? p.message : undefined;
        done = await this.here.respondHere(userId, agentId, command.targetId, p.decision, message);
      } else if (command.kind === 'steer') {
        checkSteerText(p.text);
        done = await this.here.steerHere(userId, agentId, command.targetId, p.text);
      } else {
        checkAnswerShape(p.answers);
        done = await this.here.answerHere(userId, agentId, command.targetId, p.answers);
      }
      outcome = { status: 200, body: { request_id: done.requestId } };
    } catch (error) {
      // Logged whole here, as the API logs a 5xx it answers; the sender gets the same generic body.
      if (errorResponse(error).internal)
        this.ctx.logger.error('relayed reply failed', { requestId: command.requestId, error: String(error) });
      outcome = outcomeOf(error);
    }
    this.#settle(command, outcome);
  }

  /**
   * Writes outcomes once per turn of the event loop, in one statement: the replies a wake-up took
   * and that were applied together are settled together, not one round trip each.
   */
  #settle(command: RunCommand, outcome: RunCommandOutcome): void {
    this.#outcomes.push({ command, outcome });
    if (this.#outcomes.length > 1) return;
    setImmediate(() => {
      const batch = this.#outcomes.splice(0);
      this.#commands
        .settleMany(
          batch.map((b) => ({ id: b.command.id, outcome: b.outcome })),
          this.ctx.now(),
        )
        .catch((error: unknown) => {
          for (const { command } of batch)
            this.ctx.logger.warn('could not write a relayed reply’s outcome', {
              requestId: command.requestId,
              error: String(error),
            });
        });
    });
  }
}

/** The run a reply is relayed to: who executes it, for the answers given when it cannot be delivered. */
export type RelayedRun = Pick<RunRecord, 'requestId' | 'owner' | 'agentId'>;

const shuttingDown = () => new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');

/** The relayed reply's outcome, as the instance that applied it answered: its result, or its error thrown. */
function answered(outcome: RunCommandOutcome): { requestId: string } {
  if (outcome.status === 200) return { requestId: String(outcome.body.request_id) };
  const error = (outcome.body.error ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  throw new ApiError(
    outcome.status,
    error.code ?? 'INTERNAL_ERROR',
    error.message ?? 'Internal error',
    outcome.headers ?? {},
    error.details,
  );
}
