import { validateRequest, type AgentRequestInput } from '@forge/core';
import type { RunRecord } from '@forge/store';
import { ApiError } from '../api-error.js';
import type { WebhookDispatcherPort } from '../webhook-port.js';
import type { RunContext } from './run-context.js';
import type { RunExecutor } from './run-executor.js';

export interface SubmitInput {
  userId: string;
  agentId: string;
  request: AgentRequestInput;
  webhook?: { url: string; secret?: string };
  /** The API key that sent it (hex SHA-256): its spend counts against that key. */
  keyId?: string;
}

export interface RunQueueOptions {
  /** Where a user's agent's runs must execute (a remote agent's id), when only one instance can. */
  placement?: ((userId: string, agentId: string) => Promise<string | undefined>) | undefined;
  webhooks: WebhookDispatcherPort | undefined;
  /** Queued runs per agent before 429. */
  maxQueued: number;
  /** Runs this instance executes at once (across agents). */
  maxRunning: number;
}

/** The most runs one dispatch statement claims. */
const CLAIM_BATCH = 64;

const requestIdOf = () => `req_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;

/**
 * The durable queue: a message is a row before it is answered 202; each agent's runs are claimed
 * one at a time, in FIFO order, under a lease, while this instance has room for them.
 */
export class RunQueue {
  /** Submits waiting to say whether their run started at once: told as soon as it is claimed and started here. */
  readonly #answering = new Map<string, () => void>();
  #dispatching: Promise<void> | undefined;
  #again = false;
  #soon: Promise<void> | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly executor: RunExecutor,
    private readonly options: RunQueueOptions,
  ) {}

  /** The dispatch pass in progress, or the one `dispatchSoon` asked for, if there is one. */
  get dispatching(): Promise<void> | undefined {
    return this.#dispatching ?? this.#soon;
  }

  /**
   * Validates and queues a message; resolves once it is stored (and started, when its agent is
   * free here). 429 QUEUE_FULL when the agent already has `maxQueued` waiting.
   */
  async submit(input: SubmitInput): Promise<{ run: RunRecord; status: 'queued' | 'running'; ahead: number }> {
    const { store, logger, instanceId } = this.ctx;
    const { webhooks } = this.options;
    if (this.ctx.closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
    const request = validateRequest(input.request);
    if (input.webhook) {
      if (!webhooks) throw new ApiError(400, 'WEBHOOKS_DISABLED', 'Webhooks are not enabled on this platform');
      // Refuses a URL it will not deliver to now, with a 400, rather than at delivery time.
      const probe = await webhooks.open({ ...input.webhook, agentId: input.agentId, requestId: 'req_check' });
      probe.stop?.();
    }
    const remoteAgentId = await this.options.placement?.(input.userId, input.agentId);
    const out = await store.runs.enqueue({
      requestId: requestIdOf(),
      userId: input.userId,
      agentId: input.agentId,
      request: JSON.parse(JSON.stringify(request)) as Record<string, unknown>,
      ...(input.webhook ? { webhook: input.webhook } : {}),
      ...(remoteAgentId ? { remoteAgentId } : {}),
      ...(input.keyId ? { keyId: input.keyId } : {}),
      now: this.ctx.now(),
      maxQueued: this.options.maxQueued,
      by: instanceId,
    });
    if ('full' in out) {
      throw new ApiError(
        429,
        'QUEUE_FULL',
        `Agent ${input.agentId} already has ${out.queued} messages waiting; retry later or interrupt with ?clear=true`,
        { 'retry-after': String(Math.max(1, Math.ceil(this.ctx.pollMs / 1000) * 5)) },
      );
    }
    logger.info('run queued', {
      requestId: out.run.requestId,
      agentId: input.agentId,
      userId: input.userId,
      ahead: out.ahead,
      webhook: input.webhook !== undefined,
    });
    // Behind another of its agent's messages it cannot start now: the one ahead is claimed first, and when that
    // one settles its pass (or the next heartbeat's) claims this. A claim here would find nothing for it.
    let started = false;
    if (out.ahead === 0) {
      // Answered as soon as its own run starts, not when the whole pass it joined ends: at 200 messages at once
      // the pass starts them all, and every submit (and its client's next request) waited for the last one.
      const { requestId } = out.run;
      const claimed = new Promise<boolean>((resolve) => this.#answering.set(requestId, () => resolve(true)));
      try {
        started = await Promise.race([claimed, this.dispatch().then(() => false)]);
      } finally {
        this.#answering.delete(requestId);
      }
    }
    // A fast run may have finished already: it started at once, so it is answered "running".
    const running = started || this.ctx.live.has(out.run.requestId);
    return { run: out.run, status: running ? 'running' : 'queued', ahead: running ? 0 : out.ahead };
  }

  /**
   * A dispatch pass at the next turn of the event loop, shared by every call until then: runs that
   * settle together (a burst of short runs) free their agents with one claim, not one each.
   */
  dispatchSoon(): void {
    this.#soon ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#soon = undefined;
        void this.dispatch().then(resolve);
      }),
    );
  }

  /** Claims and starts runs while there are free agents and room here; concurrent calls share one pass. */
  dispatch(): Promise<void> {
    if (this.#dispatching) {
      this.#again = true;
      return this.#dispatching;
    }
    const { store, instanceId, leaseMs, logger } = this.ctx;
    const pass = (async () => {
      try {
        do {
          this.#again = false;
          while (!this.ctx.closed && !this.ctx.drain.draining && this.ctx.live.size < this.options.maxRunning) {
            const now = this.ctx.now();
            // One statement claims as many as there is room for (up to CLAIM_BATCH): a burst of
            // messages costs one claim per pass, not one per run.
            const room = Math.min(CLAIM_BATCH, this.options.maxRunning - this.ctx.live.size);
            const claimed = await store.runs.claim(instanceId, now, now + leaseMs, room);
            for (const run of claimed) {
              await this.executor.execute(run);
              this.#answering.get(run.requestId)?.();
            }
            if (claimed.length < room) break;
          }
        } while (this.#again && !this.ctx.closed);
      } catch (error) {
        logger.error('dispatch failed', { error: String(error) });
      }
    })();
    // Cleared in a later microtask, never before it is set (a pass with nothing to do ends synchronously).
    const current: Promise<void> = pass.finally(() => {
      if (this.#dispatching === current) this.#dispatching = undefined;
    });
    this.#dispatching = current;
    return this.#dispatching;
  }
}
