import type { AgentEvent, AgentResult } from '@forge/core';
import { spendDay, type Spend } from '@forge/store';
import type { KeyCaps } from '../api-keys.js';
import { capReached, spendJson } from '../key-budget.js';
import type { LiveRun } from './live-run.js';
import type { RunContext } from './run-context.js';

/** Tokens a usage counts: what the model read and wrote. */
const tokensOf = (u: { inputTokens?: number; outputTokens?: number } | undefined) =>
  (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0);

/** Why a run was stopped for its key's budget: the final event says so. */
export interface BudgetStop {
  spend: Spend;
  caps: KeyCaps;
}

/**
 * Counts a run's spend against the API key that sent it, in the store (one upsert per `usage` event, so every
 * replica adds to the same figure), and stops the run once the key's day is spent. A run that journals no usage
 * events is counted from its result, and a result's cost beyond what its usage events reported is added at the end.
 */
export class SpendMeter {
  #chain: Promise<void> = Promise.resolve();
  #sawUsage = false;
  /** Cost the run's usage events reported so far. */
  #costSeen = 0;
  /** Set when this meter stopped the run: its run.completed becomes failed BUDGET_EXCEEDED. */
  stopped: BudgetStop | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly live: LiveRun,
    private readonly keyId: string,
    private readonly caps: KeyCaps | undefined,
  ) {}

  observe(event: AgentEvent): void {
    if (event.type === 'usage') {
      this.#sawUsage = true;
      this.#costSeen += event.costUsd ?? 0;
      this.#add({ costUsd: event.costUsd ?? 0, tokens: tokensOf(event.usage) });
    } else if (event.type === 'run.completed') {
      // Tokens are counted as they come; a provider whose usage events carry no cost (Claude Code prices a run
      // only in its result) is charged what the result says beyond what the events did.
      const cost = Math.max(0, (event.result.costUsd ?? 0) - this.#costSeen);
      this.#add({ costUsd: cost, tokens: this.#sawUsage ? 0 : tokensOf(event.result.usage) });
    }
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
