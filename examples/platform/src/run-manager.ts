import { hostname } from 'node:os';
import { defaultMaxRunning } from './runs/max-running.js';
import { silentLogger, type CodeAgent, type Logger } from '@forge/core';
import type { ForgeStore, JournalEvent, RunPage, RunRecord } from '@forge/store';
import type { KeyCaps } from './api-keys.js';
import { LiveRun } from './runs/live-run.js';
import { Outbox } from './runs/outbox.js';
import { Replies } from './runs/replies.js';
import { ReplyRelay } from './runs/reply-relay.js';
import { RunContext } from './runs/run-context.js';
import { RunEnder } from './runs/run-ender.js';
import { RunExecutor } from './runs/run-executor.js';
import { RunFollowers } from './runs/run-followers.js';
import { RunInterrupts } from './runs/run-interrupts.js';
import { listenForRuns } from './runs/run-notifications.js';
import { RunQueue, type SubmitInput } from './runs/run-queue.js';
import { pendingOf, type PendingEvent } from './runs/run-pending.js';
import { RunRecovery } from './runs/run-recovery.js';
import type { RunObserver } from './runs/run-observer.js';
import { drainRuns, type DrainReport } from './runs/run-drain.js';
import type { DrainState } from './drain-state.js';
import type { WebhookDispatcherPort } from './webhook-port.js';

export { isFinal } from './runs/final-status.js';
export { LiveRun };
export type { SubmitInput };

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
  /** Runs this instance executes at once (across agents). Default 16 per core (`defaultMaxRunning`). */
  maxRunning?: number;
  /**
   * Finished runs are deleted after `maxAgeMs`, and the oldest beyond `maxEvents` journaled events; audit entries
   * after `auditMaxAgeMs` (kept when unset).
   */
  retention?: { maxAgeMs: number; maxEvents: number; auditMaxAgeMs?: number; sweepEveryMs?: number };
  /**
   * How long a permission reply or question answer for a run executing on another instance waits
   * for that instance to take it before it is withdrawn (504 REPLY_NOT_DELIVERED). Default 5 s.
   */
  replyTimeoutMs?: number;
  /** How long a handed-over remote agent's run waits for its agent to dial some instance again. Default 180 s. */
  handoverWaitMs?: number;
  /** The daily spend cap of the API key (hex SHA-256) that sent a run, if it has one: the same on every replica. */
  keyCaps?: (keyId: string) => KeyCaps | undefined;
  /** Told of each run this process starts (the platform's metrics). */
  observer?: RunObserver;
  /** This instance's draining flag (the readiness check reads the same). Default: its own. */
  drain?: DrainState;
  now?: () => number;
}

const defaultInstanceId = () => `${hostname()}-${process.pid}-${globalThis.crypto.randomUUID().slice(0, 8)}`;

/**
 * The durable run queue: messages are rows before they are answered 202; each agent's runs go one
 * at a time in FIFO order; every event is journaled before SSE readers and webhooks see it; webhook
 * deliveries are outbox rows; runs held by an instance that died are ended (PLATFORM_RESTARTED)
 * and their deliveries resumed by whichever instance notices first.
 *
 * A facade over the rooms in `runs/` (see docs/architecture.md): it builds and wires them, and
 * hands each call to the room that owns it.
 */
export class RunManager {
  readonly instanceId: string;
  readonly #ctx: RunContext;
  readonly #outbox: Outbox;
  readonly #queue: RunQueue;
  readonly #interrupts: RunInterrupts;
  readonly #followers: RunFollowers;
  readonly #replies: Replies;
  readonly #relay: ReplyRelay;
  readonly #recovery: RunRecovery;
  readonly #unlisten: Array<() => Promise<void>> = [];
  readonly #timers: NodeJS.Timeout[] = [];

  private constructor(options: RunManagerOptions) {
    this.instanceId = options.instanceId ?? defaultInstanceId();
    const ctx = new RunContext(
      options.store,
      options.logger ?? silentLogger,
      this.instanceId,
      options.now ?? Date.now,
      options.leaseMs ?? 15_000,
      options.pollMs ?? 1_000,
      options.followPollMs ?? 250,
    );
    if (options.drain) ctx.drain = options.drain;
    this.#ctx = ctx;
    this.#outbox = new Outbox(ctx, options.webhooks);
    const ender = new RunEnder(ctx, this.#outbox);
    const executor = new RunExecutor(ctx, this.#outbox, ender, {
      agents: options.agents,
      onSettled: () => this.#queue.dispatchSoon(),
      started: (requestId) => this.#followers.journaled(requestId),
      keyCaps: options.keyCaps,
      observer: options.observer,
      handoverWaitMs: options.handoverWaitMs,
    });
    this.#queue = new RunQueue(ctx, executor, {
      placement: options.placement,
      webhooks: options.webhooks,
      maxQueued: options.maxQueuedPerAgent ?? 100,
      maxRunning: options.maxRunning ?? defaultMaxRunning(),
    });
    this.#interrupts = new RunInterrupts(ctx, ender);
    this.#followers = new RunFollowers(ctx);
    this.#relay = new ReplyRelay(
      ctx,
      {
        respondHere: (...args) => this.#replies.respondHere(...args),
        answerHere: (...args) => this.#replies.answerHere(...args),
        steerHere: (...args) => this.#replies.steerHere(...args),
      },
      options.replyTimeoutMs ?? 5_000,
    );
    this.#replies = new Replies(ctx, this.#relay);
    this.#recovery = new RunRecovery(ctx, ender, this.#outbox, this.#relay, {
      retention: options.retention,
      dispatch: () => void this.#queue.dispatch(),
      adopt: (run) => executor.adopt(run),
    });
  }

  /**
   * Takes over what dead instances left (every held run when the store is exclusive to this
   * process), starts the queue, and keeps leases renewed until `close`.
   */
  static async create(options: RunManagerOptions): Promise<RunManager> {
    const manager = new RunManager(options);
    const recovery = manager.#recovery;
    manager.#unlisten.push(
      ...(await listenForRuns(manager.#ctx, manager.#relay, {
        journaled: (requestId) => manager.#followers.journaled(requestId),
        dispatch: () => void manager.#queue.dispatch(),
        cancels: () => void recovery.applyCancels(),
      })),
    );
    await recovery.recover(true);
    const tick = setInterval(() => void recovery.tick(), manager.#ctx.pollMs);
    tick.unref();
    manager.#timers.push(tick);
    if (recovery.retention) {
      const sweep = setInterval(() => void manager.sweep(), recovery.retention.sweepEveryMs ?? 60_000);
      sweep.unref();
      manager.#timers.push(sweep);
    }
    void manager.#queue.dispatch();
    return manager;
  }

  get store(): ForgeStore {
    return this.#ctx.store;
  }

  /**
   * Validates and queues a message; resolves once it is stored (and started, when its agent is
   * free here). 429 QUEUE_FULL when the agent already has `maxQueuedPerAgent` waiting.
   */
  submit(input: SubmitInput): Promise<{ run: RunRecord; status: 'queued' | 'running'; ahead: number }> {
    return this.#queue.submit(input);
  }

  /** The user's run, as stored, or undefined (another user's runs do not exist for them). */
  async get(userId: string, requestId: string): Promise<RunRecord | undefined> {
    const run = await this.#ctx.store.runs.get(requestId);
    return run && run.userId === userId ? run : undefined;
  }

  list(userId: string, agentId: string, page: RunPage): Promise<RunRecord[]> {
    return this.#ctx.store.runs.list(userId, agentId, page);
  }

  active(userId: string, agentId: string) {
    return this.#ctx.store.runs.active(userId, agentId);
  }

  activity(userId: string) {
    return this.#ctx.store.runs.activity(userId);
  }

  /** The permission requests and questions the run waits on now, wherever it executes (none unless running). */
  pending(run: RunRecord): Promise<PendingEvent[]> {
    return pendingOf(this.#ctx, run);
  }

  /** This process's execution of a run, when it is executing it. */
  local(requestId: string): LiveRun | undefined {
    return this.#ctx.live.get(requestId);
  }

  /**
   * A run's events after `afterSeq`, from the journal, then live as they are committed, ending
   * with run.completed. Works for any run in the store, executing here, elsewhere, or not yet.
   */
  follow(requestId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<JournalEvent> {
    return this.#followers.follow(requestId, afterSeq, signal);
  }

  /**
   * Cancels the agent's running run (only if it is the one named, when one is) and waits for its
   * end; with `clear`, also ends its queued runs as cancelled. Returns the runs it ended.
   */
  interrupt(
    userId: string,
    agentId: string,
    options: { requestId?: string; clear?: boolean } = {},
  ): Promise<RunRecord[]> {
    return this.#interrupts.interrupt(userId, agentId, options);
  }

  /** Takes a queued run off the queue (ends it cancelled, with its one final event). Undefined: it is not queued. */
  async removeQueued(userId: string, requestId: string): Promise<RunRecord | undefined> {
    const run = await this.get(userId, requestId);
    if (run?.status !== 'queued') return undefined;
    return this.#interrupts.cancelQueued(requestId);
  }

  /**
   * Answers a permission request of the agent's running run, wherever it executes: here directly,
   * on another instance through a relayed command whose outcome (200, 404, 400…) is answered as
   * that instance answered it. Arguments: user, agent, permission id, decision, message, and `signal` (the
   * caller stopped waiting: the client went away).
   */
  respond(...args: Parameters<Replies['respond']>): Promise<{ requestId: string }> {
    return this.#replies.respond(...args);
  }

  /**
   * Answers a question of the agent's running run (one array of labels, or typed text, per
   * question; checked by core), wherever it executes, like `respond`.
   */
  answer(...args: Parameters<Replies['answer']>): Promise<{ requestId: string }> {
    return this.#replies.answer(...args);
  }

  /**
   * Sends a steering message to the agent's run `requestId` (`run.steer`), wherever it executes, like
   * `respond`: 404 unknown run, 409 RUN_NOT_RUNNING (queued or ended), 409 UNSUPPORTED (not steerable).
   */
  steer(...args: Parameters<Replies['steer']>): Promise<{ requestId: string }> {
    return this.#replies.steer(...args);
  }

  /** Applies retention now (also done on a timer when `retention` is set). */
  sweep(): Promise<void> {
    return this.#recovery.sweep();
  }

  /** Resolves when nothing executes here and no delivery is in progress (tests, benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queue.dispatching;
      const busy = [...[...this.#ctx.live.values()].map((l) => l.pumped), ...this.#outbox.busy()];
      if (!busy.length && !this.#queue.dispatching) return;
      await Promise.all(busy);
    }
  }

  /** Whether this instance is draining (see `drain`). */
  get draining(): boolean {
    return this.#ctx.drain.draining;
  }

  /**
   * The first half of a rolling restart (SIGTERM): claims and takes over nothing more, hands the runs that
   * go on at their agent (pods) to whichever instance takes them over, and waits up to `drainMs` for the
   * others to finish here. `close` then cancels what is left. Queued runs stay queued for the others.
   */
  async drain(drainMs: number): Promise<DrainReport> {
    const ctx = this.#ctx;
    ctx.drain.begin(ctx.now());
    // A claim or an adoption under way lands in the live runs first, so it is handed over too.
    await this.#queue.dispatching;
    await this.#recovery.settled();
    return drainRuns(ctx, drainMs);
  }

  /**
   * Stops taking runs, cancels the ones executing here, waits (up to `flushMs`) for their webhook
   * deliveries, then stops delivering and lets any other instance take over what is left at once.
   * Queued runs stay queued.
   */
  async close(flushMs = 5_000): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closed) return;
    ctx.closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#queue.dispatching;
    const live = [...ctx.live.values()];
    await Promise.all(live.map((l) => l.run.cancel('the platform is shutting down').catch(() => undefined)));
    await Promise.all(live.map((l) => l.pumped));
    await this.#outbox.flush(flushMs);
    ctx.closing.abort();
    await Promise.all(this.#unlisten.splice(0).map((u) => u().catch(() => undefined)));
    await this.#relay.applying;
    await ctx.store.runs
      .expireLeases(this.instanceId)
      .catch((error: unknown) => ctx.logger.warn('could not hand over leases', { error: String(error) }));
  }
}
