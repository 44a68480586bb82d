import { z } from 'zod';
import { MAX_TIMEOUT_MS } from './limits.js';
import { NUL_MESSAGE, noNul } from './no-nul.js';

const glob = z.string().trim().min(1).refine(noNul, NUL_MESSAGE);
const afterMs = z.number().int().positive().max(MAX_TIMEOUT_MS);

/** One approval rule: a tool (glob) and, optionally, globs its input's fields must match. First match wins. */
export const ApprovalRuleSchema = z.strictObject({
  tool: glob,
  input: z.record(z.string().min(1), glob).optional(),
  decision: z.enum(['allow', 'deny', 'ask']),
});
export type ApprovalRule = z.infer<typeof ApprovalRuleSchema>;

/**
 * How the agent's permission requests are decided: by rule, else `default` (`ask` = a `permission.requested`
 * event for the host); a request still unanswered after `afterMs` is denied, or cancels the run.
 */
export const ApprovalsSchema = z.strictObject({
  rules: z.array(ApprovalRuleSchema).max(1_000).optional(),
  default: z.enum(['ask', 'allow', 'deny']).optional(),
  unanswered: z.strictObject({ afterMs, decision: z.enum(['deny', 'cancel']) }).optional(),
});
export type Approvals = z.infer<typeof ApprovalsSchema>;

/** What happens to a question nobody answers within `afterMs`: the run is cancelled, or fails. */
export const QuestionsPolicySchema = z.strictObject({
  unanswered: z.strictObject({ afterMs, action: z.enum(['cancel', 'fail']) }).optional(),
});
export type QuestionsPolicy = z.infer<typeof QuestionsPolicySchema>;

/** Limits on what one run may spend; the run stops when one is reached. At least one limit. */
export const BudgetSchema = z
  .strictObject({
    maxCostUsd: z.number().positive().max(1_000_000).optional(),
    maxTokens: z.number().int().positive().optional(),
    maxTurns: z.number().int().positive().max(10_000).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'a budget needs at least one limit' });
export type Budget = z.infer<typeof BudgetSchema>;

export const EffortSchema = z.enum(['low', 'medium', 'high']);
export type Effort = z.infer<typeof EffortSchema>;

/** The field names of each nested object, for "did you mean" on an unknown one (keyed by its path, indexes as *). */
export const NESTED_FIELDS: Record<string, readonly string[]> = {
  approvals: Object.keys(ApprovalsSchema.shape),
  'approvals.rules.*': Object.keys(ApprovalRuleSchema.shape),
  'approvals.unanswered': ['afterMs', 'decision'],
  questions: Object.keys(QuestionsPolicySchema.shape),
  'questions.unanswered': ['afterMs', 'action'],
  budget: ['maxCostUsd', 'maxTokens', 'maxTurns'],
};
