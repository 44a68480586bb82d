import type { AgentEvent, AgentResult } from '@forge/core';
import { spendDay, type Spend } from '@forge/store';
import type { KeyCaps } from '../api-keys.js';
import { capReached, spendJson } from '../key-budget.js';
import type { LiveRun } from './live-run.js';
import type { RunContext } from './run-context.js';
import { UsageTally } from './usage-tally.js';

/** Why a run was stopped for its key's budget: the final event says so. */
export interface BudgetStop {
  spend: Spend;
  caps: KeyCaps;
}

/**
 * Counts a run's spend against the API key that sent it, in the store (one upsert per `usage` event, so every
 * replica adds to the same figure), and stops the run once the key's day is spent. The figures are the run's
 * UsageTally's (the usage report's too): a run that journals no usage events is counted from its result, and a
 * result's cost beyond what its usage events reported is added at the end.
 */
export class SpendMeter {
  #chain: Promise<void> = Promise.resolve();
  /** Set when this meter stopped the run: its run.completed becomes failed BUDGET_EXCEEDED. */
  stopped: BudgetStop | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly live: LiveRun,
    private readonly keyId: string,
    private readonly caps: KeyCaps | undefined,
    /** The run's tally, which the meter feeds. */
    readonly tally: UsageTally = new UsageTally(),
  ) {}

  observe(event: AgentEvent): void {
    const delta = this.tally.observe(event);
    this.#add({ costUsd: delta.costUsd, tokens: delta.tokensIn + delta.tokensOut });
  }

  /** Every addition made (or given up on). */
  settled(): Promise<void> {
    return this.#chain;
  }

  /**
   * The final event as it is journaled: a run this meter stopped, and that ended cancelled for it, ends failed
   * with BUDGET_EXCEEDED and what was spent.
   */
  final(event: Extract<AgentEvent, { type: 'run.completed' }>): AgentEvent {
    if (!this.stopped || event.result.status !== 'cancelled') return event;
    const { spend, caps } = this.stopped;
    const result: AgentResult = {
      ...event.result,
      status: 'failed',
      error: {
        code: 'BUDGET_EXCEEDED',
        message: `The API key's daily budget is spent (${spend.tokens} tokens, $${spend.costUsd.toFixed(4)} today); the run was stopped`,
        retryable: false,
        ...({ details: spendJson(spend, caps) } as object),
      },
    };
    return { ...event, result };
  }

  #add(spend: Spend): void {
    if (!spend.costUsd && !spend.tokens) return;
    this.#chain = this.#chain.then(async () => {
      try {
        const total = await this.ctx.store.keySpend.add(this.keyId, spendDay(this.ctx.now()), spend);
        if (this.caps && !this.stopped && !this.live.settled && capReached(total, this.caps)) {
          this.stopped = { spend: total, caps: this.caps };
          this.ctx.logger.warn('run stopped: its API key spent its daily budget', {
            requestId: this.live.requestId,
            tokens: total.tokens,
            costUsd: total.costUsd,
          });
          await this.live.run.cancel('BUDGET_EXCEEDED: the API key spent its daily budget').catch(() => undefined);
        }
      } catch (error) {
        // The run goes on: a spend that could not be counted must not fail the user's work.
        this.ctx.logger.warn('could not count a run’s spend', { requestId: this.live.requestId, error: String(error) });
      }
    });
  }
}
