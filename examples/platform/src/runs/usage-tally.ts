import type { AgentEvent } from '@forge/core';

/** What a run used, or what one event added to it. */
export interface UsageDelta {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

/**
 * A run's tokens and cost as its events report them: the one count both the key's spend (forge_key_spend, added
 * to as the run goes) and the usage report (forge_run_usage, written as it ends) are made of, so they agree.
 * Tokens are counted from `usage` events as they come; a run that sends none is counted from its result. Cost is
 * what the events reported, plus what the result says beyond that (Claude Code prices a run only in its result).
 */
export class UsageTally {
  #sawUsage = false;
  readonly total: UsageDelta = { tokensIn: 0, tokensOut: 0, costUsd: 0 };

  /** Counts the event; returns what it added (zeros for most events). */
  observe(event: AgentEvent): UsageDelta {
    let delta: UsageDelta = { tokensIn: 0, tokensOut: 0, costUsd: 0 };
    if (event.type === 'usage') {
      this.#sawUsage = true;
      delta = {
        tokensIn: event.usage?.inputTokens ?? 0,
        tokensOut: event.usage?.outputTokens ?? 0,
        costUsd: event.costUsd ?? 0,
      };
    } else if (event.type === 'run.completed') {
      const u = event.result.usage;
      delta = {
        tokensIn: this.#sawUsage ? 0 : (u?.inputTokens ?? 0),
        tokensOut: this.#sawUsage ? 0 : (u?.outputTokens ?? 0),
        costUsd: Math.max(0, (event.result.costUsd ?? 0) - this.total.costUsd),
      };
    }
    this.total.tokensIn += delta.tokensIn;
    this.total.tokensOut += delta.tokensOut;
    this.total.costUsd += delta.costUsd;
    return delta;
  }
}
