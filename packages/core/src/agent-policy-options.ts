import { z } from 'zod';
import { CoreErrorCode } from './error-codes.js';
import { ValidationError } from './errors.js';
import type { AgentRequestInput } from './request.js';
import {
  ApprovalsSchema,
  BudgetSchema,
  QuestionsPolicySchema,
  type Approvals,
  type Budget,
  type QuestionsPolicy,
} from './run-policies.js';

/** What one model costs, in US dollars per million tokens. */
export const ModelPriceSchema = z.strictObject({
  inputPerMTokUsd: z.number().nonnegative(),
  outputPerMTokUsd: z.number().nonnegative(),
  cacheReadPerMTokUsd: z.number().nonnegative().optional(),
  cacheWritePerMTokUsd: z.number().nonnegative().optional(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** Token prices by model name (`*` for every other model): how core costs a run whose provider reports no cost. */
export const PricingSchema = z.record(z.string().min(1), ModelPriceSchema);
export type Pricing = z.infer<typeof PricingSchema>;

/**
 * The run policies an agent applies to every request that does not set its own: each adapter factory's options
 * extend this and pass it through to `createCodeAgent`. A request's field replaces the default whole.
 */
export interface AgentPolicyOptions {
  /** Default `request.approvals`. */
  approvals?: Approvals;
  /** Default `request.budget`. */
  budget?: Budget;
  /** Default `request.questions`. */
  questions?: QuestionsPolicy;
  /** Token prices, so `budget.maxCostUsd` can be enforced on a provider that reports no cost. */
  pricing?: Pricing;
}

const AgentPolicyOptionsSchema = z.object({
  approvals: ApprovalsSchema.optional(),
  budget: BudgetSchema.optional(),
  questions: QuestionsPolicySchema.optional(),
  pricing: PricingSchema.optional(),
});

/** Checks an agent's policy defaults when the agent is made (ValidationError INVALID_AGENT_POLICY), not per run. */
export function checkPolicyOptions(options: AgentPolicyOptions): AgentPolicyOptions {
  const picked = {
    approvals: options.approvals,
    budget: options.budget,
    questions: options.questions,
    pricing: options.pricing,
  };
  const parsed = AgentPolicyOptionsSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    code: CoreErrorCode.INVALID_AGENT_POLICY,
    message: i.message,
  }));
  throw new ValidationError(
    CoreErrorCode.INVALID_AGENT_POLICY,
    `Invalid agent policy defaults: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}

/** Just the policy options of an adapter's options, to pass on to `createCodeAgent`. */
export function pickPolicyOptions(options: AgentPolicyOptions): AgentPolicyOptions {
  const out: AgentPolicyOptions = {};
  if (options.approvals !== undefined) out.approvals = options.approvals;
  if (options.budget !== undefined) out.budget = options.budget;
  if (options.questions !== undefined) out.questions = options.questions;
  if (options.pricing !== undefined) out.pricing = options.pricing;
  return out;
}

/** The request with the agent's defaults for the policy fields it leaves out. */
export function withPolicyDefaults(input: AgentRequestInput, defaults: AgentPolicyOptions): AgentRequestInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out = { ...input };
  if (out.approvals === undefined && defaults.approvals) out.approvals = defaults.approvals;
  if (out.budget === undefined && defaults.budget) out.budget = defaults.budget;
  if (out.questions === undefined && defaults.questions) out.questions = defaults.questions;
  return out;
}
