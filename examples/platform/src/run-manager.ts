import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PERMISSION_DECISIONS,
  ValidationError,
  describeError,
  silentLogger,
  validateRequest,
  type AgentEvent,
  type AgentRequestInput,
  type AgentResult,
  type AgentRun,
  type CodeAgent,
  type Logger,
  type PermissionDecision,
} from '@forge/core';
import {
  CANCEL_CHANNEL,
  JOURNAL_CHANNEL,
  QUEUE_CHANNEL,
  RunCommands,
  RunLeaseLostError,
  type ForgeStore,
  type JournalEvent,
  type NewEvent,
  type RunCommand,
  type RunCommandKind,
  type RunCommandOutcome,
  type RunRecord,
  type RunStatus,
} from '@forge/store';
import { ApiError, errorResponse } from './api-error.js';
import { JournalWriter } from './journal-writer.js';
import { endedHere } from './run-events.js';
import type { WebhookChannel, WebhookDispatcherPort } from './webhook-port.js';

export interface RunManagerOptions {
  store: ForgeStore;
  /** The agent that runs a user's agent's messages, looked up when a run starts; undefined when it is gone. */
  agents: (userId: string, agentId: string) => Promise<CodeAgent | undefined>;
  /**
   * Where a user's agent's runs must execute, when only one instance can: the dial-home agent id of
   * a remote agent (only the instance holding its session claims its runs). Undefined: anywhere.
   */
  placement?: (userId: string, agentId: string) => Promise<string | undefined>;
  logger?: Logger;
  webhooks?: WebhookDispatcherPort;
  /** Names this process's leases. Default: host, pid and a random part. Set it stable to reclaim at once after a restart. */
  instanceId?: string;
  /** How long a lease lasts without renewal before another instance takes the run over. Default 15 s. */
  leaseMs?: number;
  /** Heartbeat and queue poll interval (runs queued by other replicas, expired leases). Default 1 s. */
  pollMs?: number;
  /** SSE readers of a run not executing here poll the journal this often. Default 250 ms. */
  followPollMs?: number;
  /** Queued runs per agent before 429. Default 100. */
  maxQueuedPerAgent?: number;
  /** Runs this instance executes at once (across agents). Default 32. */
  maxRunning?: number;
  /** Finished runs are deleted after `maxAgeMs`, and the oldest beyond `maxEvents` journaled events. */
  retention?: { maxAgeMs: number; maxEvents: number; sweepEveryMs?: number };
  /**
   * How long a permission reply or question answer for a run executing on another instance waits
   * for that instance to take it before it is withdrawn (504 REPLY_NOT_DELIVERED). Default 5 s.
   */
  replyTimeoutMs?: number;
  now?: () => number;
}

export interface SubmitInput {
  userId: string;
  agentId: string;
  request: AgentRequestInput;
  webhook?: { url: string; secret?: string };
}

type Listener = (event: JournalEvent) => void;

/** A run executing in this process: its handle (interrupt, permission replies) and its committed events' readers. */
export class LiveRun {
  readonly pendingPermissions = new Set<string>();
  readonly pendingQuestions = new Set<string>();
  /** Questions answered (or being answered) while the run lives: a second answer is a conflict, not a miss. */
  readonly answeredQuestions = new Set<string>();
  readonly listeners = new Set<Listener>();
  result: AgentResult | undefined;
  /** Its events are all committed and published (or can no longer be). */
  settled = false;
  pumped!: Promise<void>;
  channel: WebhookChannel | undefined;

  constructor(
    readonly record: RunRecord,
    readonly run: AgentRun,
    /** Claim order in this process: a heartbeat only judges runs claimed before it began. */
    readonly claimNo: number,
  ) {}

  get requestId(): string {
    return this.record.requestId;
  }

  subscribe(listener: Listener): () => void {
    if (this.settled) return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** What a relayed reply is answered when it is for a run that no longer waits: the owner's own 404s. */
const permissionNotFound = (agentId: string, permissionId: string) =>
  new ApiError(404, 'PERMISSION_NOT_FOUND', `No run of agent ${agentId} is waiting on permission ${permissionId}`);
const questionNotFound = (agentId: string, questionId: string) =>
  new ApiError(404, 'QUESTION_NOT_FOUND', `No run of agent ${agentId} is waiting on question ${questionId}`);

function checkDecision(decision: unknown): asserts decision is PermissionDecision {
  if (typeof decision !== 'string' || !PERMISSION_DECISIONS.includes(decision as PermissionDecision)) {
    throw new ValidationError('INVALID_DECISION', `decision must be one of ${PERMISSION_DECISIONS.join(', ')}`, [
      { path: 'decision', code: 'INVALID_DECISION', message: `got ${JSON.stringify(decision)}` },
    ]);
  }
}

function checkAnswerShape(answers: unknown): asserts answers is string[][] {
  const shaped =
    Array.isArray(answers) && answers.every((a) => Array.isArray(a) && a.every((item) => typeof item === 'string'));
  if (!shaped) {
    throw new ValidationError('INVALID_ANSWER', 'answers must be an array with one array of strings per question', [
      { path: 'answers', code: 'INVALID_ANSWER', message: `got ${JSON.stringify(answers)?.slice(0, 200)}` },
    ]);
  }
}

/** An error as the API would answer it, to be stored as a relayed reply's outcome. */
function outcomeOf(error: unknown): RunCommandOutcome {
  const response = errorResponse(error);
  return {
    status: response.status,
    body: response.body,
    ...(Object.keys(response.headers).length ? { headers: response.headers } : {}),
  };
}

const requestIdOf = () => `req_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
const defaultInstanceId = () => `${hostname()}-${process.pid}-${globalThis.crypto.randomUUID().slice(0, 8)}`;
const FINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
export const isFinal = (status: RunStatus) => FINAL.has(status);

/**
 * The durable run queue: messages are rows before they are answered 202; each agent's runs go one
 * at a time in FIFO order; every event is journaled before SSE readers and webhooks see it; webhook
 * deliveries are outbox rows; runs held by an instance that died are ended (PLATFORM_RESTARTED)
 * and their deliveries resumed by whichever instance notices first.
 */
export class RunManager {
  readonly instanceId: string;
  readonly #store: ForgeStore;
  readonly #agents: RunManagerOptions['agents'];
  readonly #placement: RunManagerOptions['placement'];
  readonly #logger: Logger;
  readonly #webhooks: WebhookDispatcherPort | undefined;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #followPollMs: number;
  readonly #maxQueued: number;
  readonly #maxRunning: number;
  readonly #retention: RunManagerOptions['retention'];
  readonly #replyTimeoutMs: number;
  readonly #now: () => number;
  /** Replies relayed between instances (permission replies, question answers). */
  readonly #commands: RunCommands;
  /** Relayed replies this process waits on, by command id: wakes the waiter when its outcome is written. */
  readonly #waiters = new Map<number, () => void>();
  readonly #unlisten: Array<() => Promise<void>> = [];
  /** Followers of runs executing elsewhere, by request id: woken when a batch of theirs is journaled. */
  readonly #followers = new Map<string, Set<() => void>>();
  #applying: Promise<void> | undefined;
  #applyAgain = false;
  #commandsSweptAt = 0;
  readonly #live = new Map<string, LiveRun>();
  /** Outbox deliveries in progress here, by request. */
  readonly #deliveries = new Map<string, { channel: WebhookChannel | undefined; done: Promise<void> }>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #closing = new AbortController();
  #claims = 0;
  /** Runs whose submit waits to say whether they started at once (true once claimed here). */
  readonly #answering = new Map<string, boolean>();
  #dispatching: Promise<void> | undefined;
  #again = false;
  #ticking = false;
  #closed = false;

  private constructor(options: RunManagerOptions) {
    this.#store = options.store;
    this.#agents = options.agents;
    this.#placement = options.placement;
    this.#logger = options.logger ?? silentLogger;
    this.#webhooks = options.webhooks;
    this.instanceId = options.instanceId ?? defaultInstanceId();
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#followPollMs = options.followPollMs ?? 250;
    this.#maxQueued = options.maxQueuedPerAgent ?? 100;
    this.#maxRunning = options.maxRunning ?? 32;
    this.#retention = options.retention;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#commands = new RunCommands(options.store.sql);
  }

  /**
   * Takes over what dead instances left (every held run when the store is exclusive to this
   * process), starts the queue, and keeps leases renewed until `close`.
   */
  static async create(options: RunManagerOptions): Promise<RunManager> {
    const manager = new RunManager(options);
    await manager.#listen();
    await manager.#recover(true);
    const tick = setInterval(() => void manager.#tick(), manager.#pollMs);
    tick.unref();
    manager.#timers.push(tick);
    if (manager.#retention) {
      const sweep = setInterval(() => void manager.sweep(), manager.#retention.sweepEveryMs ?? 60_000);
      sweep.unref();
      manager.#timers.push(sweep);
    }
    void manager.#dispatch();
    return manager;
  }

  get store(): ForgeStore {
    return this.#store;
  }

  /**
   * Validates and queues a message; resolves once it is stored (and started, when its agent is
   * free here). 429 QUEUE_FULL when the agent already has `maxQueuedPerAgent` waiting.
   */
  async submit(input: SubmitInput): Promise<{ run: RunRecord; status: 'queued' | 'running'; ahead: number }> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
    const request = validateRequest(input.request);
    if (input.webhook) {
      if (!this.#webhooks) throw new ApiError(400, 'WEBHOOKS_DISABLED', 'Webhooks are not enabled on this platform');
      // Refuses a URL it will not deliver to now, with a 400, rather than at delivery time.
      const probe = await this.#webhooks.open({ ...input.webhook, agentId: input.agentId, requestId: 'req_check' });
      probe.stop?.();
    }
    const remoteAgentId = await this.#placement?.(input.userId, input.agentId);
    const out = await this.#store.runs.enqueue({
      requestId: requestIdOf(),
      userId: input.userId,
      agentId: input.agentId,
      request: JSON.parse(JSON.stringify(request)) as Record<string, unknown>,
      ...(input.webhook ? { webhook: input.webhook } : {}),
      ...(remoteAgentId ? { remoteAgentId } : {}),
      now: this.#now(),
      maxQueued: this.#maxQueued,
      by: this.instanceId,
    });
    if ('full' in out) {
      throw new ApiError(
        429,
        'QUEUE_FULL',
        `Agent ${input.agentId} already has ${out.queued} messages waiting; retry later or interrupt with ?clear=true`,
        { 'retry-after': String(Math.max(1, Math.ceil(this.#pollMs / 1000) * 5)) },
      );
    }
    this.#logger.info('run queued', {
      requestId: out.run.requestId,
      agentId: input.agentId,
      userId: input.userId,
      ahead: out.ahead,
      webhook: input.webhook !== undefined,
    });
    this.#answering.set(out.run.requestId, false);
    await this.#dispatch();
    // A fast run may have finished already: it started at once, so it is answered "running".
    const running = this.#answering.get(out.run.requestId) === true || this.#live.has(out.run.requestId);
    this.#answering.delete(out.run.requestId);
    return { run: out.run, status: running ? 'running' : 'queued', ahead: running ? 0 : out.ahead };
  }

  /** The user's run, as stored, or undefined (another user's runs do not exist for them). */
  async get(userId: string, requestId: string): Promise<RunRecord | undefined> {
    const run = await this.#store.runs.get(requestId);
    return run && run.userId === userId ? run : undefined;
  }

  list(userId: string, agentId: string, page: { limit: number; before?: number }): Promise<RunRecord[]> {
    return this.#store.runs.list(userId, agentId, page);
  }

  active(userId: string, agentId: string) {
    return this.#store.runs.active(userId, agentId);
  }

  activity(userId: string) {
    return this.#store.runs.activity(userId);
  }

  /** This process's execution of a run, when it is executing it. */
  local(requestId: string): LiveRun | undefined {
    return this.#live.get(requestId);
  }

  /**
   * A run's events after `afterSeq`, from the journal, then live as they are committed, ending
   * with run.completed. Works for any run in the store, executing here, elsewhere, or not yet.
   */
  async *follow(requestId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<JournalEvent> {
    let last = afterSeq;
    const stop = AbortSignal.any([signal, this.#closing.signal]);
    let wake: (() => void) | undefined;
    const onStop = () => wake?.();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      while (!stop.aborted) {
        const live = this.#live.get(requestId);
        if (live && !live.settled) {
          const queue: JournalEvent[] = [];
          const unsubscribe = live.subscribe((e) => {
            queue.push(e);
            wake?.();
          });
          try {
            // Subscribed first, then the journal: whatever committed before is read, whatever after is heard.
            for (;;) {
              const page = await this.#store.runs.events(requestId, last);
              for (const e of page) {
                yield e;
                last = e.seq;
                if (e.type === 'run.completed') return;
              }
              if (page.length < 1_000) break;
            }
            while (!stop.aborted) {
              for (let e = queue.shift(); e; e = queue.shift()) {
                if (e.seq <= last) continue;
                yield e;
                last = e.seq;
                if (e.type === 'run.completed') return;
              }
              if (live.settled) break;
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
            }
          } finally {
            unsubscribe();
          }
          continue;
        }
        // Executing elsewhere (or not yet): the journal, woken by its NOTIFY, polled in case one is missed.
        let journaled = false;
        const onJournaled = () => {
          journaled = true;
          wake?.();
        };
        const followers = this.#followers.get(requestId) ?? new Set();
        this.#followers.set(requestId, followers.add(onJournaled));
        try {
          const page = await this.#store.runs.events(requestId, last);
          for (const e of page) {
            yield e;
            last = e.seq;
            if (e.type === 'run.completed') return;
          }
          if (page.length < 1_000 && !journaled && !stop.aborted) {
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, this.#followPollMs);
            });
            clearTimeout(timer);
            wake = undefined;
          }
        } finally {
          followers.delete(onJournaled);
          if (!followers.size) this.#followers.delete(requestId);
        }
      }
    } finally {
      stop.removeEventListener('abort', onStop);
    }
  }

  /**
   * Cancels the agent's running run (only if it is the one named, when one is) and waits for its
   * end; with `clear`, also ends its queued runs as cancelled. Returns the runs it ended.
   */
  async interrupt(
    userId: string,
    agentId: string,
    options: { requestId?: string; clear?: boolean } = {},
  ): Promise<RunRecord[]> {
    const { running, queued } = await this.#store.runs.active(userId, agentId);
    const ended: RunRecord[] = [];
    if (options.clear) {
      for (const q of queued) {
        const done = await this.#cancelQueued(q.requestId);
        if (done) ended.push(done);
      }
    }
    if (running && (options.requestId === undefined || running.requestId === options.requestId)) {
      const done = await this.#cancelRunning(running.requestId);
      if (done) ended.push(done);
    } else if (options.requestId !== undefined && !options.clear) {
      // Naming a queued run interrupts it too: it will never start.
      const named = queued.find((q) => q.requestId === options.requestId);
      const done = named && (await this.#cancelQueued(named.requestId));
      if (done) ended.push(done);
    }
    return ended;
  }

  /** Takes a queued run off the queue (ends it cancelled, with its one final event). Undefined: it is not queued. */
  async removeQueued(userId: string, requestId: string): Promise<RunRecord | undefined> {
    const run = await this.get(userId, requestId);
    if (run?.status !== 'queued') return undefined;
    return this.#cancelQueued(requestId);
  }

  /**
   * Answers a permission request of the agent's running run, wherever it executes: here directly,
   * on another instance through a relayed command whose outcome (200, 404, 400…) is answered as
   * that instance answered it. `signal`: the caller stopped waiting (the client went away).
   */
  async respond(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: unknown,
    message?: string,
    signal?: AbortSignal,
  ): Promise<{ requestId: string }> {
    checkDecision(decision);
    const here = this.#liveWaitingOn(userId, agentId, (l) => l.pendingPermissions.has(permissionId));
    const elsewhere = here ? undefined : await this.#runningElsewhere(userId, agentId);
    if (elsewhere) {
      const payload = { user_id: userId, agent_id: agentId, decision, ...(message !== undefined ? { message } : {}) };
      return this.#relay(elsewhere, 'permission', permissionId, payload, signal);
    }
    return this.#respondHere(userId, agentId, permissionId, decision, message);
  }

  /**
   * Answers a question of the agent's running run (one array of labels, or typed text, per
   * question; checked by core), wherever it executes, like `respond`.
   */
  async answer(
    userId: string,
    agentId: string,
    questionId: string,
    answers: unknown,
    signal?: AbortSignal,
  ): Promise<{ requestId: string }> {
    checkAnswerShape(answers);
    const here = this.#liveWaitingOn(
      userId,
      agentId,
      (l) => l.pendingQuestions.has(questionId) || l.answeredQuestions.has(questionId),
    );
    const elsewhere = here ? undefined : await this.#runningElsewhere(userId, agentId);
    if (elsewhere)
      return this.#relay(elsewhere, 'question', questionId, { user_id: userId, agent_id: agentId, answers }, signal);
    return this.#answerHere(userId, agentId, questionId, answers);
  }

  #liveWaitingOn(userId: string, agentId: string, waits: (live: LiveRun) => boolean): LiveRun | undefined {
    for (const l of this.#live.values())
      if (l.record.userId === userId && l.record.agentId === agentId && waits(l)) return l;
    return undefined;
  }

  /** The agent's running run when another instance executes it. */
  async #runningElsewhere(userId: string, agentId: string): Promise<RunRecord | undefined> {
    const { running } = await this.#store.runs.active(userId, agentId);
    return running?.owner !== undefined && running.owner !== this.instanceId ? running : undefined;
  }

  /** A permission reply to a run executing here: the one path for replies received here and relayed ones. */
  async #respondHere(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: PermissionDecision,
    message: string | undefined,
  ): Promise<{ requestId: string }> {
    const live = this.#liveWaitingOn(userId, agentId, (l) => l.pendingPermissions.has(permissionId));
    if (!live) throw permissionNotFound(agentId, permissionId);
    await live.run.respond(permissionId, decision, message);
    live.pendingPermissions.delete(permissionId);
    return { requestId: live.requestId };
  }

  /** A question answer to a run executing here: the one path for answers received here and relayed ones. */
  async #answerHere(
    userId: string,
    agentId: string,
    questionId: string,
    answers: string[][],
  ): Promise<{ requestId: string }> {
    const live = this.#liveWaitingOn(
      userId,
      agentId,
      (l) => l.pendingQuestions.has(questionId) || l.answeredQuestions.has(questionId),
    );
    if (live?.answeredQuestions.has(questionId))
      throw new ApiError(409, 'QUESTION_ANSWERED', `Question ${questionId} has already been answered`);
    if (!live) throw questionNotFound(agentId, questionId);
    live.answeredQuestions.add(questionId);
    try {
      await live.run.answer(questionId, answers);
    } catch (error) {
      live.answeredQuestions.delete(questionId);
      throw error;
    }
    live.pendingQuestions.delete(questionId);
    return { requestId: live.requestId };
  }

  /** Applies retention now (also done on a timer when `retention` is set). */
  async sweep(): Promise<void> {
    if (!this.#retention || this.#closed) return;
    try {
      const { runs } = await this.#store.runs.sweep({
        finishedBefore: this.#now() - this.#retention.maxAgeMs,
        maxEvents: this.#retention.maxEvents,
      });
      if (runs) this.#logger.info('retention removed finished runs', { runs });
    } catch (error) {
      this.#logger.warn('retention sweep failed', { error: String(error) });
    }
  }

  /** Resolves when nothing executes here and no delivery is in progress (tests, benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#dispatching;
      const busy = [
        ...[...this.#live.values()].map((l) => l.pumped),
        ...[...this.#deliveries.values()].map((d) => d.done),
      ];
      if (!busy.length && !this.#dispatching) return;
      await Promise.all(busy);
    }
  }

  /**
   * Stops taking runs, cancels the ones executing here, waits (up to `flushMs`) for their webhook
   * deliveries, then stops delivering and lets any other instance take over what is left at once.
   * Queued runs stay queued.
   */
  async close(flushMs = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#dispatching;
    const live = [...this.#live.values()];
    await Promise.all(live.map((l) => l.run.cancel('the platform is shutting down').catch(() => undefined)));
    await Promise.all(live.map((l) => l.pumped));
    const deliveries = [...this.#deliveries.values()];
    if (deliveries.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(deliveries.map((d) => d.done)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs))),
      ]);
      clearTimeout(timer);
      for (const d of this.#deliveries.values()) d.channel?.stop?.();
      await Promise.all([...this.#deliveries.values()].map((d) => d.done));
    }
    this.#closing.abort();
    await Promise.all(this.#unlisten.splice(0).map((u) => u().catch(() => undefined)));
    await this.#applying;
    await this.#store.runs
      .expireLeases(this.instanceId)
      .catch((error: unknown) => this.#logger.warn('could not hand over leases', { error: String(error) }));
  }

  // ---- the queue ----

  /** Claims and starts runs while there are free agents and room here; concurrent calls share one pass. */
  #dispatch(): Promise<void> {
    if (this.#dispatching) {
      this.#again = true;
      return this.#dispatching;
    }
    const pass = (async () => {
      try {
        do {
          this.#again = false;
          while (!this.#closed && this.#live.size < this.#maxRunning) {
            const now = this.#now();
            const run = await this.#store.runs.claimNext(this.instanceId, now, now + this.#leaseMs);
            if (!run) break;
            await this.#execute(run);
          }
        } while (this.#again && !this.#closed);
      } catch (error) {
        this.#logger.error('dispatch failed', { error: String(error) });
      }
    })();
    // Cleared in a later microtask, never before it is set (a pass with nothing to do ends synchronously).
    const current: Promise<void> = pass.finally(() => {
      if (this.#dispatching === current) this.#dispatching = undefined;
    });
    this.#dispatching = current;
    return this.#dispatching;
  }

  async #execute(record: RunRecord): Promise<void> {
    const claimNo = ++this.#claims;
    if (this.#answering.has(record.requestId)) this.#answering.set(record.requestId, true);
    let run: AgentRun;
    try {
      const agent = await this.#agents(record.userId, record.agentId);
      if (!agent) {
        await this.#endHere(record, ['running'], 'failed', {
          code: 'AGENT_NOT_FOUND',
          message: `Agent ${record.agentId} is gone or not ready`,
          retryable: false,
        });
        return;
      }
      run = agent.execute(record.request as AgentRequestInput, { runId: record.requestId });
    } catch (error) {
      await this.#endHere(record, ['running'], 'failed', describeError(error));
      return;
    }
    const live = new LiveRun(record, run, claimNo);
    this.#live.set(record.requestId, live);
    this.#logger.info('run started', {
      requestId: record.requestId,
      agentId: record.agentId,
      userId: record.userId,
      provider: run.provider,
      webhook: record.webhook !== undefined,
    });
    if (record.webhook) live.channel = await this.#openChannel(record);
    live.pumped = this.#pump(live);
  }

  async #pump(live: LiveRun): Promise<void> {
    const { record } = live;
    const settles = this.#settler(record.requestId);
    const writer = new JournalWriter({
      store: this.#store.runs,
      requestId: record.requestId,
      owner: this.instanceId,
      webhook: record.webhook !== undefined,
      now: this.#now,
      publish: (batch) => this.#publish(live, batch, settles.settle),
      failed: (error) => {
        const lost = error instanceof RunLeaseLostError;
        (lost ? this.#logger.warn : this.#logger.error)(
          lost ? 'run taken over by another instance; stopping it here' : 'journal write failed; stopping the run',
          { requestId: record.requestId, error: String(error) },
        );
        void live.run.cancel(lost ? 'taken over by another instance' : 'the journal cannot be written');
      },
    });
    try {
      for await (const event of live.run) {
        if (event.type === 'permission.requested') live.pendingPermissions.add(event.id);
        if (event.type === 'question.requested') live.pendingQuestions.add(event.id);
        writer.push(event);
        // A producer far ahead of the database waits for it, so memory stays bounded.
        if (writer.backlog >= 8_192) await writer.drained();
      }
    } catch (error) {
      // Core guarantees a run.completed; reaching here means the iteration itself broke.
      this.#logger.error('run stream failed', { requestId: record.requestId, error: String(error) });
    } finally {
      await writer.drained();
      if (writer.broken !== undefined) {
        // Another instance holds the run now (or the database is gone): what is left to deliver is its business.
        live.channel?.stop?.();
        live.channel = undefined;
      } else if (live.result === undefined) {
        // No run.completed was journaled (the stream broke): end it here, so it has its one final event,
        // and deliver what is pending from the outbox rather than through a channel that will never see it.
        live.channel?.stop?.();
        await live.channel?.done;
        live.channel = undefined;
        const result = await live.run.result.catch(() => undefined);
        const done = await this.#endHere(
          record,
          ['running'],
          'failed',
          result?.error
            ? { ...result.error, retryable: result.error.retryable ?? false }
            : { code: 'INTERNAL_ERROR', message: 'The run ended without run.completed', retryable: false },
        ).catch(() => undefined);
        live.result = (done?.result as AgentResult | undefined) ?? result;
      } else if (record.webhook && !live.channel) {
        // The URL was refused when the run started: nothing will be delivered.
        void this.#failDeliveries(record);
      }
      live.settled = true;
      // Wakes followers so they see `settled` and go on from the journal (seq -1 is skipped by them).
      for (const wake of live.listeners) wake({ seq: -1, type: 'settled', time: 0, body: '' });
      live.listeners.clear();
      live.pendingPermissions.clear();
      live.pendingQuestions.clear();
      this.#live.delete(record.requestId);
      this.#logger.info('run completed', {
        requestId: record.requestId,
        agentId: record.agentId,
        status: live.result?.status,
        durationMs: live.result?.durationMs,
        ...(live.result?.error ? { error: live.result.error.code } : {}),
      });
      if (live.channel) this.#watchDelivery(record, live.channel, settles.drained);
      void this.#dispatch();
    }
  }

  #publish(
    live: LiveRun,
    batch: Array<{ event: AgentEvent; row: NewEvent }>,
    settle: (seq: number, outcome: 'delivered' | 'rejected') => void,
  ): void {
    for (const { event, row } of batch) {
      if (event.type === 'run.completed') live.result = event.result;
      if (live.channel && row.webhookId)
        live.channel.send(event, { webhookId: row.webhookId, onSettled: (o) => settle(event.seq, o) });
      for (const listener of live.listeners) {
        try {
          listener(row);
        } catch (error) {
          // One broken reader must not cost the others (or the webhook) their events.
          live.listeners.delete(listener);
          this.#logger.warn('event reader failed', { requestId: live.requestId, error: String(error) });
        }
      }
    }
  }

  // ---- ending runs that are not executing here ----

  #endHere(
    record: RunRecord,
    from: RunStatus[],
    status: 'failed' | 'cancelled',
    error: { code: string; message: string; retryable: boolean },
  ): Promise<RunRecord | undefined> {
    const now = this.#now();
    return this.#store.runs
      .finish(record.requestId, from, this.instanceId, now + this.#leaseMs, (seq, run) =>
        endedHere(run, seq, now, status, error),
      )
      .then((done) => {
        if (done?.webhook) void this.#deliverOutbox(done);
        if (done) this.#logger.info('run ended', { requestId: done.requestId, status, code: error.code });
        return done;
      });
  }

  async #cancelQueued(requestId: string): Promise<RunRecord | undefined> {
    const run = await this.#store.runs.get(requestId);
    if (!run) return undefined;
    return this.#endHere(run, ['queued'], 'cancelled', {
      code: 'CANCELLED',
      message: 'Removed from the queue through the API before it started',
      retryable: false,
    });
  }

  async #cancelRunning(requestId: string): Promise<RunRecord | undefined> {
    const live = this.#live.get(requestId);
    if (live) {
      await live.run.cancel('interrupted through the API');
      await live.pumped;
      return this.#store.runs.get(requestId);
    }
    // Executing on another instance: it sees the request at its next heartbeat.
    if (!(await this.#store.runs.requestCancel(requestId))) return this.#store.runs.get(requestId);
    const deadline = this.#now() + Math.max(10_000, 3 * this.#leaseMs);
    while (this.#now() < deadline) {
      const run = await this.#store.runs.get(requestId);
      if (!run || isFinal(run.status)) return run;
      await sleep(Math.min(200, this.#pollMs));
    }
    return this.#store.runs.get(requestId);
  }

  // ---- replies for runs executing on another instance ----

  /** Listens for commands sent to this instance and for the outcomes of those it sent; without LISTEN, polls. */
  async #listen(): Promise<void> {
    const runs = this.#store.runs;
    try {
      const listening = await Promise.all([
        runs.onNotify(JOURNAL_CHANNEL, (requestId) => {
          for (const wake of this.#followers.get(requestId) ?? []) wake();
        }),
        // A run queued or an agent freed by another instance: claim now, not at the next poll.
        runs.onNotify(QUEUE_CHANNEL, (by) => {
          if (by !== this.instanceId) void this.#dispatch();
        }),
        runs.onNotify(CANCEL_CHANNEL, (owner) => {
          if (owner === this.instanceId) void this.#applyCancels();
        }),
      ]);
      for (const unlisten of listening) if (unlisten) this.#unlisten.push(unlisten);
    } catch (error) {
      this.#logger.warn('cannot LISTEN for journal, queue and cancel notifications; polling instead', {
        error: String(error),
      });
    }
    try {
      const sent = await this.#commands.onSent(this.instanceId, () => void this.#applyCommands());
      if (sent) this.#unlisten.push(sent);
      const settled = await this.#commands.onSettled((id) => this.#waiters.get(id)?.());
      if (settled) this.#unlisten.push(settled);
    } catch (error) {
      this.#logger.warn('cannot LISTEN for relayed replies; polling for them instead', { error: String(error) });
    }
  }

  /**
   * Sends a reply to the instance executing `run` and answers what it answered. It is withdrawn
   * (so never applied later) when that instance has not taken it within the reply timeout (504
   * REPLY_NOT_DELIVERED), when the run ends or changes hands first (the 404 its owner gives for
   * a run no longer waiting), or when the caller gives up.
   */
  async #relay(
    run: RunRecord,
    kind: RunCommandKind,
    targetId: string,
    payload: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<{ requestId: string }> {
    const outcome = await this.#sendCommand(run, kind, targetId, payload, signal);
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

  async #sendCommand(
    run: RunRecord,
    kind: RunCommandKind,
    targetId: string,
    payload: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<RunCommandOutcome> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
    const owner = run.owner!;
    const stop = AbortSignal.any([...(signal ? [signal] : []), this.#closing.signal]);
    const command = await this.#commands.send({
      requestId: run.requestId,
      owner,
      kind,
      targetId,
      payload,
      now: this.#now(),
    });
    const deadline = this.#now() + this.#replyTimeoutMs;
    const notFound = outcomeOf(
      kind === 'permission' ? permissionNotFound(run.agentId, targetId) : questionNotFound(run.agentId, targetId),
    );
    const notDelivered = outcomeOf(
      new ApiError(
        504,
        'REPLY_NOT_DELIVERED',
        `The platform instance running run ${run.requestId} did not take the reply within ${this.#replyTimeoutMs} ms; it was not delivered, send it again`,
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
    try {
      for (;;) {
        woken = false;
        const now = this.#now();
        const current = await this.#commands.get(command.id);
        if (current?.outcome && (current.state === 'done' || current.state === 'refused')) return current.outcome;
        if (!current) return notDelivered; // swept: nobody took it in all that time
        if (current.state === 'pending') {
          let give: RunCommandOutcome | undefined;
          if (stop.aborted || now >= deadline) give = notDelivered;
          else if (polled) {
            // Its owner ended the run, died (lease lapsed) or lost it: nobody will take the reply.
            const latest = await this.#store.runs.get(run.requestId);
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
        } else if (now >= deadline + this.#replyTimeoutMs) {
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
        const until = current.state === 'pending' ? deadline : deadline + this.#replyTimeoutMs;
        polled = false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              polled = true;
              resolve();
            },
            Math.min(this.#followPollMs, Math.max(1, until - now)),
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
      await this.#commands
        .remove(command.id)
        .catch((error: unknown) => this.#logger.warn('could not remove a relayed reply', { error: String(error) }));
    }
  }

  #stopped(signal: AbortSignal | undefined): ApiError {
    return signal?.aborted
      ? // Nobody reads it: the client is gone. Not a 5xx, so it is not logged as a failure.
        new ApiError(499, 'CLIENT_CLOSED_REQUEST', 'The client went away before the reply was delivered')
      : new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
  }

  /** Takes the replies other instances relayed to this one and applies them; concurrent calls share one pass. */
  #applyCommands(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#applying) {
      this.#applyAgain = true;
      return this.#applying;
    }
    const pass = (async () => {
      try {
        do {
          this.#applyAgain = false;
          for (let taken = await this.#commands.take(this.instanceId); taken.length && !this.#closed; ) {
            // Each on its own, as replies received here are: one slow agent does not hold up the others.
            for (const command of taken) void this.#applyCommand(command);
            taken = await this.#commands.take(this.instanceId);
          }
        } while (this.#applyAgain && !this.#closed);
      } catch (error) {
        this.#logger.warn('could not take relayed replies', { error: String(error) });
      }
    })();
    const current: Promise<void> = pass.finally(() => {
      if (this.#applying === current) this.#applying = undefined;
    });
    this.#applying = current;
    return current;
  }

  /** Applies a relayed reply through the same checks and path as one received here, and writes what it came to. */
  async #applyCommand(command: RunCommand): Promise<void> {
    let outcome: RunCommandOutcome;
    try {
      const { user_id: userId, agent_id: agentId } = command.payload as { user_id: string; agent_id: string };
      const p = command.payload;
      let done: { requestId: string };
      if (command.kind === 'permission') {
        checkDecision(p.decision);
        const message = typeof p.message === 'string' ? p.message : undefined;
        done = await this.#respondHere(userId, agentId, command.targetId, p.decision, message);
      } else {
        checkAnswerShape(p.answers);
        done = await this.#answerHere(userId, agentId, command.targetId, p.answers);
      }
      outcome = { status: 200, body: { request_id: done.requestId } };
    } catch (error) {
      // Logged whole here, as the API logs a 5xx it answers; the sender gets the same generic body.
      if (errorResponse(error).internal)
        this.#logger.error('relayed reply failed', { requestId: command.requestId, error: String(error) });
      outcome = outcomeOf(error);
    }
    try {
      await this.#commands.settle(command.id, outcome, this.#now());
    } catch (error) {
      this.#logger.warn('could not write a relayed reply’s outcome', {
        requestId: command.requestId,
        error: String(error),
      });
    }
  }

  // ---- leases and recovery ----

  /** Cancels the runs executing here that someone asked (through any instance) to cancel. */
  async #applyCancels(): Promise<void> {
    try {
      for (const id of await this.#store.runs.cancelsFor(this.instanceId))
        void this.#live.get(id)?.run.cancel('interrupted through the API');
    } catch (error) {
      this.#logger.warn('reading cancellations failed; the heartbeat will', { error: String(error) });
    }
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      const claimsBefore = this.#claims;
      const now = this.#now();
      const { held, cancelRequested } = await this.#store.runs.heartbeat(this.instanceId, now, now + this.#leaseMs);
      for (const live of this.#live.values()) {
        if (live.claimNo > claimsBefore || live.settled || held.has(live.requestId)) continue;
        this.#logger.warn('lease lost; stopping the run here', { requestId: live.requestId });
        void live.run.cancel('taken over by another instance');
      }
      for (const id of cancelRequested) void this.#live.get(id)?.run.cancel('interrupted through the API');
      // Relayed replies whose notification was missed (or that came without LISTEN).
      void this.#applyCommands();
      if (now - this.#commandsSweptAt >= 60_000) {
        this.#commandsSweptAt = now;
        // Senders remove their commands; what is left was sent by an instance that died waiting.
        await this.#commands.sweep(now - Math.max(600_000, 10 * this.#replyTimeoutMs));
      }
      await this.#recover(false);
      void this.#dispatch();
    } catch (error) {
      this.#logger.warn('heartbeat failed', { error: String(error) });
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Takes over runs whose holder is gone: at start every run held by this instance id (a previous
   * life) and, on an exclusive store, by anyone; later only those whose lease ran out. Running ones
   * end failed PLATFORM_RESTARTED; then their webhook deliveries resume.
   */
  async #recover(starting: boolean): Promise<void> {
    const now = this.#now();
    const taken = await this.#store.runs.takeOver(this.instanceId, now, now + this.#leaseMs, {
      all: starting && this.#store.exclusive,
      mine: starting,
    });
    for (const run of taken) {
      if (this.#live.has(run.requestId) || this.#deliveries.has(run.requestId)) continue;
      if (run.status === 'running') {
        this.#logger.warn('run was running on an instance that stopped; ending it', {
          requestId: run.requestId,
          previousOwner: run.owner,
        });
        await this.#endHere(run, ['running'], 'failed', {
          code: 'PLATFORM_RESTARTED',
          message: 'The platform instance running this message stopped before it finished; send it again',
          retryable: true,
        });
      } else if (run.webhook) void this.#deliverOutbox(run);
      else await this.#store.runs.release(run.requestId, this.instanceId);
    }
  }

  // ---- the outbox ----

  async #openChannel(run: RunRecord): Promise<WebhookChannel | undefined> {
    if (!this.#webhooks || !run.webhook) return undefined;
    try {
      return await this.#webhooks.open({ ...run.webhook, agentId: run.agentId, requestId: run.requestId });
    } catch (error) {
      this.#logger.warn('webhook: cannot deliver to the URL any more; its deliveries are dropped', {
        requestId: run.requestId,
        error: String(error),
      });
      return undefined;
    }
  }

  /** Marks outbox rows settled in the order their deliveries settled. */
  #settler(requestId: string) {
    let chain = Promise.resolve();
    return {
      settle: (seq: number, outcome: 'delivered' | 'rejected') => {
        chain = chain.then(() =>
          this.#store.runs
            .settleOutbox(requestId, seq, outcome, this.#now())
            .catch((error: unknown) =>
              this.#logger.warn('outbox: could not mark a delivery', { requestId, seq, error: String(error) }),
            ),
        );
      },
      drained: () => chain,
    };
  }

  /** When the run's channel finishes: gave up for good → the rest is failed; stopped → left for the next instance. */
  #watchDelivery(run: RunRecord, channel: WebhookChannel, settled: () => Promise<void>): void {
    const done = (async () => {
      const report = (await channel.done) as { gaveUp?: { reason: string } } | undefined;
      await settled();
      if (this.#closing.signal.aborted) return;
      if (report?.gaveUp && report.gaveUp.reason !== 'closed') {
        await this.#failDeliveries(run);
        return;
      }
      if (report?.gaveUp?.reason === 'closed') return;
      await this.#store.runs.release(run.requestId, this.instanceId);
    })()
      .catch((error: unknown) =>
        this.#logger.warn('outbox: delivery bookkeeping failed', { requestId: run.requestId, error: String(error) }),
      )
      .finally(() => {
        if (this.#deliveries.get(run.requestId)?.done === done) this.#deliveries.delete(run.requestId);
      });
    this.#deliveries.set(run.requestId, { channel, done });
  }

  async #failDeliveries(run: RunRecord): Promise<void> {
    const failed = await this.#store.runs.failPendingOutbox(run.requestId, this.#now());
    if (failed) this.#logger.warn('webhook: deliveries given up', { requestId: run.requestId, failed });
    await this.#store.runs.release(run.requestId, this.instanceId);
  }

  /** Delivers a finished run's pending outbox rows, in seq order, under their stable webhook-ids. */
  async #deliverOutbox(run: RunRecord): Promise<void> {
    if (this.#deliveries.has(run.requestId) || this.#closed) return;
    const placeholder = { channel: undefined, done: Promise.resolve() };
    this.#deliveries.set(run.requestId, placeholder);
    try {
      const pending = await this.#store.runs.pendingOutbox(run.requestId);
      if (!pending.length || !pending.some((p) => p.isFinal)) {
        // Nothing left, or a tail without its final event (cannot happen with ordered settling): settle it.
        if (pending.length) await this.#store.runs.failPendingOutbox(run.requestId, this.#now());
        await this.#store.runs.release(run.requestId, this.instanceId);
        this.#deliveries.delete(run.requestId);
        return;
      }
      const channel = await this.#openChannel(run);
      this.#deliveries.delete(run.requestId);
      if (!channel) {
        await this.#failDeliveries(run);
        return;
      }
      const settles = this.#settler(run.requestId);
      this.#logger.info('webhook: resuming deliveries', { requestId: run.requestId, from: pending[0]!.seq });
      for (const item of pending) {
        const event = JSON.parse(item.body) as AgentEvent;
        channel.send(event, { webhookId: item.webhookId, onSettled: (o) => settles.settle(item.seq, o) });
      }
      this.#watchDelivery(run, channel, settles.drained);
    } catch (error) {
      this.#deliveries.delete(run.requestId);
      this.#logger.warn('outbox: could not resume deliveries', { requestId: run.requestId, error: String(error) });
    }
  }
}
