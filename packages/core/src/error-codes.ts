/**
 * The codes `@forge/core` itself puts on errors and results. Each adapter package keeps its own such object;
 * codes are plain strings on the wire, so hosts can match them without importing anything.
 */
export const CoreErrorCode = {
  // Requests (ValidationError)
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNKNOWN_FIELD: 'UNKNOWN_FIELD',
  PROMPT_REQUIRED: 'PROMPT_REQUIRED',
  INVALID_SESSION_ID: 'INVALID_SESSION_ID',
  INVALID_CWD: 'INVALID_CWD',
  INVALID_MODEL: 'INVALID_MODEL',
  INVALID_SYSTEM_PROMPT: 'INVALID_SYSTEM_PROMPT',
  INVALID_TOOLS: 'INVALID_TOOLS',
  INVALID_PERMISSION_MODE: 'INVALID_PERMISSION_MODE',
  INVALID_MAX_TURNS: 'INVALID_MAX_TURNS',
  INVALID_TIMEOUT: 'INVALID_TIMEOUT',
  INVALID_ENV: 'INVALID_ENV',
  INVALID_ATTACHMENT: 'INVALID_ATTACHMENT',
  INVALID_METADATA: 'INVALID_METADATA',
  INVALID_MCP_SERVERS: 'INVALID_MCP_SERVERS',
  INVALID_OUTPUT_SCHEMA: 'INVALID_OUTPUT_SCHEMA',
  INVALID_OUTPUT_REPAIRS: 'INVALID_OUTPUT_REPAIRS',
  INVALID_EFFORT: 'INVALID_EFFORT',
  INVALID_APPROVALS: 'INVALID_APPROVALS',
  INVALID_QUESTIONS: 'INVALID_QUESTIONS',
  INVALID_BUDGET: 'INVALID_BUDGET',
  INVALID_FORK: 'INVALID_FORK',
  INVALID_DECISION: 'INVALID_DECISION',
  INVALID_ANSWER: 'INVALID_ANSWER',
  INVALID_STEERING: 'INVALID_STEERING',
  INVALID_PROVIDER_NAME: 'INVALID_PROVIDER_NAME',
  INVALID_OS_USER: 'INVALID_OS_USER',
  /** An agent's policy defaults (approvals, budget, questions, pricing) are not valid; thrown when it is made. */
  INVALID_AGENT_POLICY: 'INVALID_AGENT_POLICY',
  // Runs
  RUN_EXISTS: 'RUN_EXISTS',
  RUN_FINISHED: 'RUN_FINISHED',
  RUN_ALREADY_ITERATED: 'RUN_ALREADY_ITERATED',
  PERMISSION_NOT_FOUND: 'PERMISSION_NOT_FOUND',
  QUESTION_NOT_FOUND: 'QUESTION_NOT_FOUND',
  CANCELLED: 'CANCELLED',
  TIMED_OUT: 'TIMED_OUT',
  EVENT_BUFFER_OVERFLOW: 'EVENT_BUFFER_OVERFLOW',
  INVALID_EVENT: 'INVALID_EVENT',
  PROVIDER_ERROR: 'PROVIDER_ERROR',
  TRANSPORT_BROKEN: 'TRANSPORT_BROKEN',
  // Run policies: the run ends failed with these
  /** The answer did not match `outputSchema`, repair turns included; the message carries the validator's errors. */
  OUTPUT_SCHEMA_MISMATCH: 'OUTPUT_SCHEMA_MISMATCH',
  /** The run went over `budget`; the message says what was spent, the result's usage/costUsd/turns too. */
  BUDGET_EXCEEDED: 'BUDGET_EXCEEDED',
  /** `budget.maxCostUsd` could not be counted: no reported cost and no price for the model in `pricing`. */
  BUDGET_UNPRICED: 'BUDGET_UNPRICED',
  /** A question was not answered within `questions.unanswered.afterMs` and its action was `fail`. */
  QUESTION_UNANSWERED: 'QUESTION_UNANSWERED',
  // Registry
  PROVIDER_NOT_FOUND: 'PROVIDER_NOT_FOUND',
  PROVIDER_EXISTS: 'PROVIDER_EXISTS',
  INVALID_PROVIDER: 'INVALID_PROVIDER',
  PROVIDER_FACTORY_FAILED: 'PROVIDER_FACTORY_FAILED',
  REGISTRY_CLOSE_FAILED: 'REGISTRY_CLOSE_FAILED',
  // Processes and the rest
  PROCESS_SPAWN_FAILED: 'PROCESS_SPAWN_FAILED',
  CWD_NOT_FOUND: 'CWD_NOT_FOUND',
  UNSUPPORTED: 'UNSUPPORTED',
  /** A request field the adapter does not declare (UnsupportedFieldError), refused before any work. */
  UNSUPPORTED_FIELD: 'UNSUPPORTED_FIELD',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];
