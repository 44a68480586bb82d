import { validateRequest } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { resultOutcome } from './mapper.js';
import { nativeBudgetOutcome } from './native-budget.js';

/** The result line of CLI 2.1.197 stopped by --max-budget-usd (seen against the fake API), trimmed. */
const overBudget = {
  type: 'result',
  subtype: 'error_max_budget_usd',
  is_error: true,
  num_turns: 1,
  session_id: 's',
  total_cost_usd: 0.009155,
  usage: { input_tokens: 0, output_tokens: 0 },
};

describe('nativeBudgetOutcome', () => {
  it('fails a run the CLI stopped at --max-budget-usd as BUDGET_EXCEEDED, with what was spent', () => {
    const request = validateRequest({ prompt: 'x', budget: { maxCostUsd: 0.001 } });
    expect(nativeBudgetOutcome(resultOutcome(overBudget), request)).toMatchObject({
      status: 'failed',
      sessionId: 's',
      error: {
        code: 'BUDGET_EXCEEDED',
        message: 'The run reached its cost limit of $0.001 (spent $0.0092 in 1 turns)',
      },
    });
  });

  it("turns error_max_turns into BUDGET_EXCEEDED only when the budget's turn limit was the tighter one", () => {
    const maxTurns = resultOutcome({ ...overBudget, subtype: 'error_max_turns', num_turns: 2 });
    const budget = validateRequest({ prompt: 'x', budget: { maxTurns: 2 } });
    expect(nativeBudgetOutcome(maxTurns, budget).error?.code).toBe('BUDGET_EXCEEDED');
    const own = validateRequest({ prompt: 'x', maxTurns: 1, budget: { maxTurns: 2 } });
    expect(nativeBudgetOutcome(maxTurns, own).error?.code).toBe('ERROR_MAX_TURNS');
    expect(nativeBudgetOutcome(maxTurns, validateRequest({ prompt: 'x' })).error?.code).toBe('ERROR_MAX_TURNS');
  });
});
