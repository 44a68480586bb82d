import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '@forge/store';
import { isFinal } from './final-status.js';
import type { RunContext } from './run-context.js';
import type { RunEnder } from './run-ender.js';

/** Interrupts: cancelling an agent's running run (here or on another instance) and taking runs off its queue. */
export class RunInterrupts {
  constructor(
    private readonly ctx: RunContext,
    private readonly ender: RunEnder,
  ) {}

  /**
   * Cancels the agent's running run (only if it is the one named, when one is) and waits for its
   * end; with `clear`, also ends its queued runs as cancelled. Returns the runs it ended.
   */
  async interrupt(
    userId: string,
    agentId: string,
    options: { requestId?: string; clear?: boolean } = {},
  ): Promise<RunRecord[]> {
    const { running, queued } = await this.ctx.store.runs.active(userId, agentId);
    const ended: RunRecord[] = [];
    if (options.clear) {
      for (const q of queued) {
        const done = await this.cancelQueued(q.requestId);
        if (done) ended.push(done);
      }
    }
    if (running && (options.requestId === undefined || running.requestId === options.requestId)) {
      const done = await this.#cancelRunning(running.requestId);
      if (done) ended.push(done);
    } else if (options.requestId !== undefined && !options.clear) {
      // Naming a queued run interrupts it too: it will never start.
      const named = queued.find((q) => q.requestId === options.requestId);
      const done = named && (await this.cancelQueued(named.requestId));
      if (done) ended.push(done);
    }
    return ended;
  }

  /** Takes a queued run off the queue (ends it cancelled, with its one final event). Undefined: it is not queued. */
  async cancelQueued(requestId: string): Promise<RunRecord | undefined> {
    const run = await this.ctx.store.runs.get(requestId);
    if (!run) return undefined;
    return this.ender.end(run, ['queued'], 'cancelled', {
      code: 'CANCELLED',
      message: 'Removed from the queue through the API before it started',
      retryable: false,
    });
  }

  async #cancelRunning(requestId: string): Promise<RunRecord | undefined> {
    const { store, leaseMs, pollMs } = this.ctx;
    const live = this.ctx.live.get(requestId);
    if (live) {
      await live.run.cancel('interrupted through the API');
      await live.pumped;
      return store.runs.get(requestId);
    }
    // Executing on another instance: it sees the request at its next heartbeat.
    if (!(await store.runs.requestCancel(requestId))) return store.runs.get(requestId);
    const deadline = this.ctx.now() + Math.max(10_000, 3 * leaseMs);
    while (this.ctx.now() < deadline) {
      const run = await store.runs.get(requestId);
      if (!run || isFinal(run.status)) return run;
      await sleep(Math.min(200, pollMs));
    }
    return store.runs.get(requestId);
  }
}
