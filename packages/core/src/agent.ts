import type { AgentEvent, AgentResult } from './events.js';
import type { AgentRequestInput } from './request.js';

export interface AgentCapabilities {
  /** Continue an earlier session by `request.sessionId`. */
  resume: boolean;
  cancel: boolean;
  /** `run.respond()` answers `permission.requested` events. */
  permissionReplies: boolean;
  /** `run.answer()` answers `question.requested` events. */
  questions: boolean;
  /** Text arrives as `text.delta` events before the whole `message`. */
  textDeltas: boolean;
  reasoning: boolean;
  attachments: boolean;
  images: boolean;
  systemPrompt: boolean;
  toolFilter: boolean;
  maxTurns: boolean;
  /** Models the provider says it can use; empty when unknown. */
  models: string[];
  /** Version of the underlying program or server, when it could be found. */
  version?: string;
  /**
   * False when the provider cannot run here now (its binary is missing, its server unreachable), with the reason
   * in `unavailableReason`. Absent when the adapter does not check.
   */
  available?: boolean;
  unavailableReason?: string;
  /** Provider-specific extras. */
  extra?: Record<string, unknown>;
}

export type PermissionDecision = 'allow' | 'allow_always' | 'deny';

export const PERMISSION_DECISIONS: readonly PermissionDecision[] = ['allow', 'allow_always', 'deny'];

export interface ExecuteOptions {
  /** Aborting it cancels the run (status `cancelled`). */
  signal?: AbortSignal;
  /** Use this run id instead of a fresh one (transports pass the caller's id through). */
  runId?: string;
}

/**
 * One run of an agent: iterate it for events (ending with exactly one `run.completed`), or await
 * `result`. Events are buffered until read, so a late or slow reader loses nothing; see
 * `RunOptions.highWaterMark` / `maxBufferedEvents` for the bound.
 */
export interface AgentRun extends AsyncIterable<AgentEvent> {
  readonly id: string;
  readonly provider: string;
  readonly result: Promise<AgentResult>;
  /** Idempotent and safe at any moment; resolves once the run has ended. */
  cancel(reason?: string): Promise<AgentResult>;
  /**
   * Answer a `permission.requested` event — also before the event has been read. Throws UnsupportedError where
   * the provider cannot, NotFoundError (`PERMISSION_NOT_FOUND`) for an id that is not waiting.
   */
  respond(permissionId: string, decision: PermissionDecision, message?: string): Promise<void>;
  /**
   * Answer a `question.requested` event: one array of chosen labels (or typed text, where `custom`) per question,
   * in order. Throws UnsupportedError where the provider cannot, NotFoundError (`QUESTION_NOT_FOUND`) for an id
   * that is not waiting, ValidationError (`INVALID_ANSWER`) for answers that do not fit the questions.
   */
  answer(questionId: string, answers: string[][]): Promise<void>;
}

/** The port every provider implements. */
export interface CodeAgent {
  readonly provider: string;
  capabilities(): Promise<AgentCapabilities>;
  /** Validates synchronously (throws ValidationError before any work) and starts the run. */
  execute(request: AgentRequestInput, options?: ExecuteOptions): AgentRun;
  /** Cancels a live run of this agent; false when no such run is live. */
  cancel(runId: string): Promise<boolean>;
  /** Releases what the agent owns (servers, connections). Optional. */
  close?(): Promise<void>;
}

export const defaultCapabilities = (overrides: Partial<AgentCapabilities> = {}): AgentCapabilities => ({
  resume: false,
  cancel: true,
  permissionReplies: false,
  questions: false,
  textDeltas: false,
  reasoning: false,
  attachments: false,
  images: false,
  systemPrompt: false,
  toolFilter: false,
  maxTurns: false,
  models: [],
  ...overrides,
});
