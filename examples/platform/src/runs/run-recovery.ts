import type { RunRecord } from '@forge/store';
import type { Outbox } from './outbox.js';
import type { ReplyRelay } from './reply-relay.js';
import type { RunContext } from './run-context.js';
import type { RunEnder } from './run-ender.js';

export interface RunRecoveryOptions {
  /** Finished runs are deleted after `maxAgeMs`, and the oldest beyond `maxEvents` journaled events. */
  retention?: { maxAgeMs: number; maxEvents: number; auditMaxAgeMs?: number; sweepEveryMs?: number } | undefined;
  /** Claim what can be claimed now (a run taken over, an agent freed). */
  dispatch: () => void;
  /** Re-attach to a running run another instance handed over (RunExecutor.adopt). */
  adopt: (run: RunRecord) => Promise<void>;
}

/**
 * Leases and what outlives an instance: the heartbeat renews this instance's leases (stopping runs
 * whose lease was lost, applying interrupts and relayed replies whose notification was missed), takes
 * over runs whose holder is gone (ending them PLATFORM_RESTARTED, resuming their deliveries), and
 * applies retention.
 */
export class RunRecovery {
  #beat: Promise<void> | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly ender: RunEnder,
    private readonly outbox: Outbox,
    private readonly relay: ReplyRelay,
    private readonly options: RunRecoveryOptions,
  ) {}

  get retention(): RunRecoveryOptions['retention'] {
    return this.options.retention;
  }

  /** Cancels the runs executing here that someone asked (through any instance) to cancel. */
  async applyCancels(): Promise<void> {
    try {
      for (const id of await this.ctx.store.runs.cancelsFor(this.ctx.instanceId))
        void this.ctx.live.get(id)?.run.cancel('interrupted through the API');
    } catch (error) {
      this.ctx.logger.warn('reading cancellations failed; the heartbeat will', { error: String(error) });
    }
  }

  /** Resolves when the heartbeat in progress, if any, is over (a drain waits for what it may adopt). */
  async settled(): Promise<void> {
    await this.#beat;
  }

  /** One heartbeat (every `pollMs`); a beat still in progress skips the next. */
  tick(): Promise<void> {
    if (this.#beat || this.ctx.closed) return Promise.resolve();
    const beat = this.#beatOnce().finally(() => {
      if (this.#beat === beat) this.#beat = undefined;
    });
    this.#beat = beat;
    return beat;
  }

  async #beatOnce(): Promise<void> {
    const { store, instanceId, leaseMs, logger } = this.ctx;
    try {
      const claimsBefore = this.ctx.claims;
      const now = this.ctx.now();
      const { held, cancelRequested } = await store.runs.heartbeat(instanceId, now, now + leaseMs);
      for (const live of this.ctx.live.values()) {
        if (live.claimNo > claimsBefore || live.settled || held.has(live.requestId)) continue;
        logger.warn('lease lost; stopping the run here', { requestId: live.requestId });
        void live.run.cancel('taken over by another instance');
      }
      for (const id of cancelRequested) void this.ctx.live.get(id)?.run.cancel('interrupted through the API');
      // Relayed replies whose notification was missed (or that came without LISTEN).
      void this.relay.apply();
      await this.relay.sweep(now);
      // A draining instance keeps its own leases (its runs finish here) but takes nothing new.
      if (this.ctx.drain.draining) return;
      await this.recover(false);
      this.options.dispatch();
    } catch (error) {
      logger.warn('heartbeat failed', { error: String(error) });
    }
  }

  /**
   * Takes over runs whose holder is gone: at start every run held by this instance id (a previous
   * life) and, on an exclusive store, by anyone; later only those whose lease ran out. Running ones
   * end failed PLATFORM_RESTARTED; then their webhook deliveries resume.
   */
  async recover(starting: boolean): Promise<void> {
    const { store, instanceId, leaseMs, logger } = this.ctx;
    const now = this.ctx.now();
    const taken = await store.runs.takeOver(instanceId, now, now + leaseMs, {
      all: starting && store.exclusive,
      mine: starting,
    });
    for (const run of taken) {
      if (this.ctx.live.has(run.requestId) || this.outbox.has(run.requestId)) continue;
      if (run.status === 'running' && run.handedOverAt !== undefined) {
        // Let go of by a stopping instance while its agent goes on: re-attach, do not end it.
        await this.options.adopt(run);
      } else if (run.status === 'running') {
        logger.warn('run was running on an instance that stopped; ending it', {
          requestId: run.requestId,
          previousOwner: run.owner,
        });
        await this.ender.end(run, ['running'], 'failed', {
          code: 'PLATFORM_RESTARTED',
          message: 'The platform instance running this message stopped before it finished; send it again',
          retryable: true,
        });
      } else if (run.webhook) void this.outbox.resume(run);
      else await store.runs.release(run.requestId, instanceId);
    }
  }

  /** Applies retention now (also done on a timer when `retention` is set). */
  async sweep(): Promise<void> {
    const { retention } = this.options;
    if (!retention || this.ctx.closed) return;
    try {
      const finishedBefore = this.ctx.now() - retention.maxAgeMs;
      const { runs } = await this.ctx.store.runs.sweep({ finishedBefore, maxEvents: retention.maxEvents });
      if (runs) this.ctx.logger.info('retention removed finished runs', { runs });
      // The conversations go with their runs: a session no remaining run names, unsaved for as long.
      const { sessions } = await this.ctx.store.agentSessions.sweep(finishedBefore);
      if (sessions) this.ctx.logger.info('retention removed sessions', { sessions });
      // The audit log is kept longer than runs (who did what is asked about after the work is gone).
      if (retention.auditMaxAgeMs !== undefined) {
        const entries = await this.ctx.store.audit.sweep(this.ctx.now() - retention.auditMaxAgeMs);
        if (entries) this.ctx.logger.info('retention removed audit entries', { entries });
      }
    } catch (error) {
      this.ctx.logger.warn('retention sweep failed', { error: String(error) });
    }
  }
}
