import type { AgentEvent } from '@forge/core';
import type { RunRecord } from '@forge/store';
import type { WebhookChannel, WebhookDispatcherPort } from '../webhook-port.js';
import type { RunContext } from './run-context.js';

/** A run's webhook deliveries in progress here. */
interface Delivery {
  channel: WebhookChannel | undefined;
  done: Promise<void>;
}

/**
 * A run's webhook deliveries: its events' outbox rows, sent through a channel and marked settled in
 * the order they settled; a finished run's pending rows resumed (after a restart, or when its run
 * ended here) under their stable webhook-ids; the run released once nothing is left to deliver.
 */
export class Outbox {
  /** Outbox deliveries in progress here, by request. */
  readonly #deliveries = new Map<string, Delivery>();

  constructor(
    private readonly ctx: RunContext,
    private readonly webhooks: WebhookDispatcherPort | undefined,
  ) {}

  /** Whether deliveries of this run are in progress here. */
  has(requestId: string): boolean {
    return this.#deliveries.has(requestId);
  }

  /** Resolves when every delivery in progress now has finished. */
  busy(): Array<Promise<void>> {
    return [...this.#deliveries.values()].map((d) => d.done);
  }

  /** Waits up to `flushMs` for the deliveries in progress, then stops them and waits for their bookkeeping. */
  async flush(flushMs: number): Promise<void> {
    const deliveries = [...this.#deliveries.values()];
    if (!deliveries.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(deliveries.map((d) => d.done)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs))),
    ]);
    clearTimeout(timer);
    for (const d of this.#deliveries.values()) d.channel?.stop?.();
    await Promise.all([...this.#deliveries.values()].map((d) => d.done));
  }

  async openChannel(run: RunRecord): Promise<WebhookChannel | undefined> {
    if (!this.webhooks || !run.webhook) return undefined;
    try {
      return await this.webhooks.open({ ...run.webhook, agentId: run.agentId, requestId: run.requestId });
    } catch (error) {
      this.ctx.logger.warn('webhook: cannot deliver to the URL any more; its deliveries are dropped', {
        requestId: run.requestId,
        error: String(error),
      });
      return undefined;
    }
  }

  /** Marks outbox rows settled in the order their deliveries settled. */
  settler(requestId: string) {
    let chain = Promise.resolve();
    return {
      settle: (seq: number, outcome: 'delivered' | 'rejected') => {
        chain = chain.then(() =>
          this.ctx.store.runs
            .settleOutbox(requestId, seq, outcome, this.ctx.now())
            .catch((error: unknown) =>
              this.ctx.logger.warn('outbox: could not mark a delivery', { requestId, seq, error: String(error) }),
            ),
        );
      },
      drained: () => chain,
    };
  }

  /** When the run's channel finishes: gave up for good → the rest is failed; stopped → left for the next instance. */
  watch(run: RunRecord, channel: WebhookChannel, settled: () => Promise<void>): void {
    const { store, instanceId, closing, logger } = this.ctx;
    const done = (async () => {
      const report = (await channel.done) as { gaveUp?: { reason: string } } | undefined;
      await settled();
      if (closing.signal.aborted) return;
      if (report?.gaveUp && report.gaveUp.reason !== 'closed') {
        await this.fail(run);
        return;
      }
      if (report?.gaveUp?.reason === 'closed') return;
      await store.runs.release(run.requestId, instanceId);
    })()
      .catch((error: unknown) =>
        logger.warn('outbox: delivery bookkeeping failed', { requestId: run.requestId, error: String(error) }),
      )
      .finally(() => {
        if (this.#deliveries.get(run.requestId)?.done === done) this.#deliveries.delete(run.requestId);
      });
    this.#deliveries.set(run.requestId, { channel, done });
  }

  /** Gives up the run's pending deliveries and releases it. */
  async fail(run: RunRecord): Promise<void> {
    const failed = await this.ctx.store.runs.failPendingOutbox(run.requestId, this.ctx.now());
    if (failed) this.ctx.logger.warn('webhook: deliveries given up', { requestId: run.requestId, failed });
    await this.ctx.store.runs.release(run.requestId, this.ctx.instanceId);
  }

  /** Delivers a finished run's pending outbox rows, in seq order, under their stable webhook-ids. */
  async resume(run: RunRecord): Promise<void> {
    const { store, instanceId, logger } = this.ctx;
    if (this.#deliveries.has(run.requestId) || this.ctx.closed) return;
    const placeholder = { channel: undefined, done: Promise.resolve() };
    this.#deliveries.set(run.requestId, placeholder);
    try {
      const pending = await store.runs.pendingOutbox(run.requestId);
      if (!pending.length || !pending.some((p) => p.isFinal)) {
        // Nothing left, or a tail without its final event (cannot happen with ordered settling): settle it.
        if (pending.length) await store.runs.failPendingOutbox(run.requestId, this.ctx.now());
        await store.runs.release(run.requestId, instanceId);
        this.#deliveries.delete(run.requestId);
        return;
      }
      const channel = await this.openChannel(run);
      this.#deliveries.delete(run.requestId);
      if (!channel) {
        await this.fail(run);
        return;
      }
      const settles = this.settler(run.requestId);
      logger.info('webhook: resuming deliveries', { requestId: run.requestId, from: pending[0]!.seq });
      for (const item of pending) {
        const event = JSON.parse(item.body) as AgentEvent;
        channel.send(event, { webhookId: item.webhookId, onSettled: (o) => settles.settle(item.seq, o) });
      }
      this.watch(run, channel, settles.drained);
    } catch (error) {
      this.#deliveries.delete(run.requestId);
      logger.warn('outbox: could not resume deliveries', { requestId: run.requestId, error: String(error) });
    }
  }
}
