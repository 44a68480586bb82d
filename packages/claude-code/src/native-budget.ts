import type { AgentRequest, RunOutcome } from '@forge/core';

/** The code core gives a run stopped by its budget; a run stopped by the CLI's own cap gets the same. */
export const BUDGET_EXCEEDED = 'BUDGET_EXCEEDED';

/**
 * The outcome of a run the CLI stopped at a native cap passed for `request.budget` (`--max-budget-usd`: result
 * `error_max_budget_usd`; `--max-turns` from `budget.maxTurns`: `error_max_turns`) fails as BUDGET_EXCEEDED with
 * what was spent, like a run core stops; a `maxTurns` of the request's own keeps its ERROR_MAX_TURNS.
 */
export function nativeBudgetOutcome(outcome: RunOutcome, request: AgentRequest): RunOutcome {
  const budget = request.budget;
  const code = outcome.error?.code;
  if (!budget || outcome.status !== 'failed' || !code) return outcome;
  const byCost = code === 'ERROR_MAX_BUDGET_USD' && budget.maxCostUsd !== undefined;
  const byTurns =
    code === 'ERROR_MAX_TURNS' &&
    budget.maxTurns !== undefined &&
    (request.maxTurns === undefined || budget.maxTurns <= request.maxTurns);
  if (!byCost && !byTurns) return outcome;
  const spent = `spent $${(outcome.costUsd ?? 0).toFixed(4)} in ${outcome.turns ?? 0} turns`;
  const limit = byCost ? `its cost limit of $${budget.maxCostUsd}` : `its limit of ${budget.maxTurns} turns`;
  return { ...outcome, error: { code: BUDGET_EXCEEDED, message: `The run reached ${limit} (${spent})` } };
}
