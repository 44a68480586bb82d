import type { ModelPrice, Pricing } from './agent-policy-options.js';
import type { Usage } from './events.js';
import type { Budget } from './run-policies.js';

/** What a run has spent so far, as its `usage` events reported it. */
export interface Spent {
  /** Every token reported: input, output, cache reads and cache writes. */
  tokens: number;
  /** Model turns: one `usage` event each. */
  turns: number;
  /** Reported by the provider, or priced from `pricing`; absent when neither says. */
  costUsd?: number;
}

export type BudgetVerdict =
  | { over: false }
  | { over: true; code: 'BUDGET_EXCEEDED' | 'BUDGET_UNPRICED'; message: string };

const usd = (n: number) => `$${n.toFixed(4)}`;

/**
 * Counts what a run spends from its `usage` events as they arrive and says when it goes over `budget` (strictly
 * over: a run that needs exactly `maxTurns` turns completes).
 */
export class BudgetMeter {
  private readonly spent: Spent = { tokens: 0, turns: 0 };
  private model: string | undefined;

  constructor(
    private readonly budget: Budget,
    private readonly pricing: Pricing | undefined,
    model: string | undefined,
  ) {
    this.model = model;
  }

  /** The model named by `session.started`, when the request named none. */
  setModel(model: string | undefined): void {
    if (this.model === undefined && model) this.model = model;
  }

  snapshot(): Spent {
    return { ...this.spent };
  }

  add(usage: Usage, costUsd: number | undefined): BudgetVerdict {
    const s = this.spent;
    s.tokens += usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    s.turns += 1;
    const cost = costUsd ?? this.price(usage);
    if (cost !== undefined) s.costUsd = (s.costUsd ?? 0) + cost;
    const { maxTokens, maxTurns, maxCostUsd } = this.budget;
    if (maxTokens !== undefined && s.tokens > maxTokens)
      return this.over(`${s.tokens} tokens of maxTokens ${maxTokens}`);
    if (maxTurns !== undefined && s.turns > maxTurns) return this.over(`${s.turns} turns of maxTurns ${maxTurns}`);
    if (maxCostUsd !== undefined) {
      if (cost === undefined) {
        return {
          over: true,
          code: 'BUDGET_UNPRICED',
          message: `The run's cost cannot be counted for maxCostUsd: the provider reported none and pricing has no price for model "${this.model ?? '(unknown)'}"`,
        };
      }
      if (s.costUsd! > maxCostUsd) return this.over(`${usd(s.costUsd!)} of maxCostUsd ${usd(maxCostUsd)}`);
    }
    return { over: false };
  }

  /** What was spent, in words, for the failed result. */
  describe(): string {
    const s = this.spent;
    return `${s.tokens} tokens, ${s.turns} turn${s.turns === 1 ? '' : 's'}${s.costUsd !== undefined ? `, ${usd(s.costUsd)}` : ''}`;
  }

  private over(what: string): BudgetVerdict {
    return {
      over: true,
      code: 'BUDGET_EXCEEDED',
      message: `The run went over its budget (${what}); spent ${this.describe()}`,
    };
  }

  private price(usage: Usage): number | undefined {
    const price: ModelPrice | undefined =
      (this.model !== undefined ? this.pricing?.[this.model] : undefined) ?? this.pricing?.['*'];
    if (!price) return undefined;
    const perToken = (perM: number | undefined, fallback: number) => (perM ?? fallback) / 1_000_000;
    return (
      usage.inputTokens * perToken(price.inputPerMTokUsd, 0) +
      usage.outputTokens * perToken(price.outputPerMTokUsd, 0) +
      usage.cacheReadTokens * perToken(price.cacheReadPerMTokUsd, price.inputPerMTokUsd) +
      usage.cacheWriteTokens * perToken(price.cacheWritePerMTokUsd, price.inputPerMTokUsd)
    );
  }
}
