import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeError,
  type AgentEvent,
  type AgentRequestInput,
  type AgentResult,
  type AgentRun,
  type CodeAgent,
} from '@forge/core';
import type { NewEvent, OutboxItem, RunRecord, RunUsageFigures } from '@forge/store';
import type { KeyCaps } from '../api-keys.js';
import { JournalWriter } from '../journal-writer.js';
import { JournalBatcher } from './journal-batcher.js';
import { isLeaseLost } from './lease-lost.js';
import { LiveRun } from './live-run.js';
import { DEFAULT_HANDOVER_WAIT_MS, canHandOver, isHandoverEnd, leaveForItsAgent } from './run-handover.js';
import { pendingOf } from './run-pending.js';
import type { Outbox } from './outbox.js';
import type { RunContext } from './run-context.js';
import type { EndError, RunEnder } from './run-ender.js';
import type { RunObserver } from './run-observer.js';
import { SpendMeter } from './spend-meter.js';
import { UsageTally } from './usage-tally.js';

/** Tries at ending a run here before it is left to a restart (pollMs, 2×pollMs… apart). */
const END_ATTEMPTS = 4;

export interface RunExecutorOptions {
  /** The agent that runs a user's agent's messages; undefined when it is gone. */
  agents: (userId: string, agentId: string) => Promise<CodeAgent | undefined>;
  /** A run executing here has settled: its agent is free for the next message. */
  onSettled: () => void;
  /** A run started executing here: its readers waiting for it go on live, from its tail. */
  started?: (requestId: string) => void;
  /** The daily cap of the API key that sent a run, if it has one. */
  keyCaps?: ((keyId: string) => KeyCaps | undefined) | undefined;
  /** Told of each run started here (metrics). */
  observer?: RunObserver | undefined;
  /** How long a handed-over remote agent's run waits for its agent to dial back (run-handover.ts). */
  handoverWaitMs?: number | undefined;
}

/**
 * Executes one claimed run: starts it on its agent, journals its events (JournalWriter) before its
 * readers and its webhook see them, and makes sure it ends with exactly one run.completed.
 */
export class RunExecutor {
  /** Every run's journal writes here, many runs' batches to a statement. */
  readonly #journal: JournalBatcher;

  constructor(
    private readonly ctx: RunContext,
    private readonly outbox: Outbox,
    private readonly ender: RunEnder,
    private readonly options: RunExecutorOptions,
  ) {
    this.#journal = new JournalBatcher(ctx.store.runs);
  }

  async execute(record: RunRecord): Promise<void> {
    const claimNo = ++this.ctx.claims;
    let run: AgentRun;
    try {
      const agent = await this.options.agents(record.userId, record.agentId);
      if (!agent) {
        await this.ender.end(record, ['running'], 'failed', {
          code: 'AGENT_NOT_FOUND',
          message: `Agent ${record.agentId} is gone or not ready`,
          retryable: false,
        });
        return;
      }
      run = agent.execute(record.request as AgentRequestInput, { runId: record.requestId });
      await this.#started(record, agent, run, claimNo);
    } catch (error) {
      await this.ender.end(record, ['running'], 'failed', describeError(error));
    }
  }

  /**
   * Adopts a run another instance handed over while stopping (run-handover.ts): re-attaches to it at its
   * agent after its last journaled event, and goes on as if it had started here. A run whose agent cannot be
   * re-attached to ends as a run of a stopped instance does (PLATFORM_RESTARTED).
   */
  async adopt(record: RunRecord): Promise<void> {
    const claimNo = ++this.ctx.claims;
    const { store, instanceId, logger } = this.ctx;
    try {
      const agent = await this.options.agents(record.userId, record.agentId).catch(() => undefined);
      if (!agent || !canHandOver(agent)) {
        await this.ender.end(record, ['running'], 'failed', {
          code: 'PLATFORM_RESTARTED',
          message:
            'The platform instance running this message stopped and its agent cannot be re-attached to; send it again',
          retryable: true,
        });
        return;
      }
      if (agent.canAttach && !agent.canAttach(record.requestId)) {
        await leaveForItsAgent(this.ctx, this.ender, record, this.options.handoverWaitMs ?? DEFAULT_HANDOVER_WAIT_MS);
        return;
      }
      const pending = await pendingOf(this.ctx, record);
      // The request grants the run's session calls here what it granted them where the run started.
      const { sessionId, fork } = record.request as AgentRequestInput;
      const run = agent.attach(record.requestId, {
        afterSeq: record.eventCount,
        pending,
        request: { ...(sessionId !== undefined ? { sessionId } : {}), ...(fork !== undefined ? { fork } : {}) },
      });
      await store.runs.adopted(record.requestId, instanceId);
      logger.info('run adopted from a stopping instance', {
        requestId: record.requestId,
        afterSeq: record.eventCount,
        previousOwner: record.owner,
      });
      await this.#started(record, agent, run, claimNo, true);
    } catch (error) {
      await this.ender.end(record, ['running'], 'failed', describeError(error));
    }
  }

  async #started(record: RunRecord, agent: CodeAgent, run: AgentRun, claimNo: number, adopted = false) {
    const live = new LiveRun(record, run, claimNo);
    live.agent = agent;
    this.ctx.live.set(record.requestId, live);
    this.ctx.logger.info('run started', {
      requestId: record.requestId,
      agentId: record.agentId,
      userId: record.userId,
      provider: run.provider,
      webhook: record.webhook !== undefined,
    });
    this.options.started?.(record.requestId);
    if (record.webhook) live.channel = await this.outbox.openChannel(record);
    // An adopted run's deliveries the last holder did not settle go first, under their webhook-ids.
    const backlog =
      adopted && live.channel
        ? await this.ctx.store.runs.pendingOutbox(record.requestId).catch((error: unknown) => {
            // They stay pending in the outbox, for whoever next takes the finished run over (Outbox.resume).
            this.ctx.logger.warn('could not read the undelivered webhooks of an adopted run', {
              requestId: record.requestId,
              error: String(error),
            });
            return [];
          })
        : [];
    live.pumped = this.#pump(live, backlog);
  }

  async #pump(live: LiveRun, backlog: OutboxItem[] = []): Promise<void> {
    const { record } = live;
    const { logger } = this.ctx;
    const settles = this.outbox.settler(record.requestId);
    for (const item of backlog) {
      live.channel?.send(JSON.parse(item.body) as AgentEvent, {
        webhookId: item.webhookId,
        onSettled: (o) => settles.settle(item.seq, o),
      });
    }
    const writer = new JournalWriter({
      store: this.#journal,
      requestId: record.requestId,
      owner: this.ctx.instanceId,
      webhook: record.webhook !== undefined,
      now: this.ctx.now,
      publish: (batch) => this.#publish(live, batch, settles.settle),
      usage: (result) => ({ ...usage(), durationMs: result.durationMs ?? 0 }),
      failed: (error) => {
        const lost = isLeaseLost(error);
        (lost ? logger.warn : logger.error)(
          lost ? 'run taken over by another instance; stopping it here' : 'journal write failed; stopping the run',
          { requestId: record.requestId, error: String(error) },
        );
        void live.run.cancel(lost ? 'taken over by another instance' : 'the journal cannot be written');
      },
    });
    // Every run's spend counts against its key; a capped key's run is stopped once the key's day is spent.
    const tally = new UsageTally();
    const meter = record.keyId
      ? new SpendMeter(this.ctx, live, record.keyId, this.options.keyCaps?.(record.keyId), tally)
      : undefined;
    // What the run used goes into the statement that ends it (forge_run_usage), from the tally its spend was counted by.
    const usage = () => ({
      provider: live.run.provider,
      durationMs: live.result?.durationMs ?? 0,
      tokensIn: tally.total.tokensIn,
      tokensOut: tally.total.tokensOut,
      costUsd: tally.total.costUsd,
    });
    const watch = this.options.observer?.started(record, live.run.provider);
    try {
      for await (let event of live.run) {
        if (live.handingOver && isHandoverEnd(event)) {
          live.handedOver = true;
          break;
        }
        if (meter) meter.observe(event);
        else tally.observe(event);
        if (meter && event.type === 'run.completed') event = meter.final(event);
        watch?.event(event);
        if (event.type === 'permission.requested') live.pendingPermissions.add(event.id);
        if (event.type === 'question.requested') live.pendingQuestions.add(event.id);
        writer.push(event);
        // A producer far ahead of the database waits for it, so memory stays bounded.
        if (writer.backlog >= 8_192) await writer.drained();
      }
    } catch (error) {
      // Core guarantees a run.completed; reaching here means the iteration itself broke.
      logger.error('run stream failed', { requestId: record.requestId, error: String(error) });
    } finally {
      await writer.drained();
      await meter?.settled();
      const broken = writer.broken !== undefined;
      if (live.handedOver && !broken) {
        // Its events up to here are journaled; the next holder re-attaches after them and delivers the rest.
        live.channel?.stop?.();
        live.channel = undefined;
        await this.ctx.store.runs
          .handOver(record.requestId, this.ctx.instanceId, this.ctx.now())
          .catch((error: unknown) =>
            logger.warn('could not mark the run handed over; it ends when its lease lapses', {
              requestId: record.requestId,
              error: String(error),
            }),
          );
      } else if (broken && isLeaseLost(writer.broken)) {
        // Another instance holds the run now: what is left to deliver is its business.
        live.channel?.stop?.();
        live.channel = undefined;
      } else if (live.result === undefined) {
        // No run.completed was journaled (the stream broke, or the store refused a write for a reason
        // other than a lost lease): end it here, so it has its one final event and its agent is free,
        // and deliver what is pending from the outbox rather than through a channel that will never see it.
        live.channel?.stop?.();
        await live.channel?.done;
        live.channel = undefined;
        const result = await live.run.result.catch(() => undefined);
        const done = await this.#endHere(
          record,
          usage(),
          broken
            ? {
                code: 'STORE_WRITE_FAILED',
                message: 'The run’s events could not be stored, so it was stopped; send it again',
                retryable: true,
              }
            : result?.error
              ? { ...result.error, retryable: result.error.retryable ?? false }
              : { code: 'INTERNAL_ERROR', message: 'The run ended without run.completed', retryable: false },
        );
        live.result = (done?.result as AgentResult | undefined) ?? result;
      } else if (record.webhook && !live.channel) {
        // The URL was refused when the run started: nothing will be delivered.
        void this.outbox.fail(record);
      }
      live.settled = true;
      if (!live.handedOver && !broken && live.tail.ended) this.ctx.recent.keep(record.requestId, live.tail);
      watch?.settled(live.result);
      // Wakes followers so they see `settled` and go on from the journal (seq -1 is skipped by them).
      for (const wake of live.listeners) wake({ seq: -1, type: 'settled', time: 0, body: '' });
      live.listeners.clear();
      live.pendingPermissions.clear();
      live.pendingQuestions.clear();
      this.ctx.live.delete(record.requestId);
      logger.info('run completed', {
        requestId: record.requestId,
        agentId: record.agentId,
        status: live.handedOver ? 'handed over' : live.result?.status,
        durationMs: live.result?.durationMs,
        ...(live.result?.error ? { error: live.result.error.code } : {}),
      });
      if (live.channel) this.outbox.watch(record, live.channel, settles.drained);
      this.options.onSettled();
    }
  }

  /**
   * Ends a run executing here that its agent did not end, trying again a few times: the write that
   * failed before it may have been a passing fault (a dropped connection), and a run left `running`
   * holds its agent's queue until this instance stops.
   */
  async #endHere(record: RunRecord, usage: RunUsageFigures, error: EndError): Promise<RunRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ender.end(record, ['running'], 'failed', error, usage);
      } catch (failure) {
        const fields = { requestId: record.requestId, attempt, error: String(failure) };
        if (attempt >= END_ATTEMPTS || this.ctx.closed) {
          this.ctx.logger.error('could not end the run; it ends when this instance restarts', fields);
          return undefined;
        }
        this.ctx.logger.warn('could not end the run; trying again', fields);
        await sleep(this.ctx.pollMs * attempt);
      }
    }
  }

  #publish(
    live: LiveRun,
    batch: Array<{ event: AgentEvent; row: NewEvent }>,
    settle: (seq: number, outcome: 'delivered' | 'rejected') => void,
  ): void {
    for (const { event, row } of batch) {
      if (event.type === 'run.completed') live.result = event.result;
      live.tail.add(row);
      if (live.channel && row.webhookId)
        live.channel.send(event, { webhookId: row.webhookId, onSettled: (o) => settle(event.seq, o) });
      for (const listener of live.listeners) {
        try {
          listener(row);
        } catch (error) {
          // One broken reader must not cost the others (or the webhook) their events.
          live.listeners.delete(listener);
          this.ctx.logger.warn('event reader failed', { requestId: live.requestId, error: String(error) });
        }
      }
    }
  }
}
