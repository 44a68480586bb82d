import type { FileChangeKind, PermissionResolution, PlanEntry, Question, RunStatus, Usage } from '@forge/core';

/** `data-file-change`: one file the agent changed, when it changed it, with the unified diff where there is one. */
export interface FileChangeData {
  path: string;
  change: FileChangeKind;
  diff?: string;
  oldPath?: string;
  /** The tool call that made the change. */
  toolCallId?: string;
  /** The subagent's tool call this happened inside. */
  parentToolCallId?: string;
}

/**
 * `data-plan`: the agent's whole current plan. Every update has the same part id (one per subagent), so the
 * AI SDK replaces the part in place and a client renders one live checklist.
 */
export interface PlanData {
  entries: PlanEntry[];
  parentToolCallId?: string;
}

/** `data-permission`: a permission request; the same part turns `resolved` once it was decided. */
export type PermissionData = {
  id: string;
  tool: string;
  input: unknown;
  parentToolCallId?: string;
} & (
  | { status: 'pending' }
  | { status: 'resolved'; decision: PermissionResolution; by: 'host' | 'rule' | 'unanswered' }
);

/** `data-question`: questions the agent asks the user; the same part turns `resolved` once answered (or not). */
export type QuestionData = {
  id: string;
  questions: Question[];
  parentToolCallId?: string;
} & ({ status: 'pending' } | { status: 'resolved'; by: 'host' | 'unanswered' });

/**
 * `data-error`: an error the run reported and went on from (a retried API call, a warning). A run that fails
 * ends the stream with the AI SDK's own `error` chunk instead, which `useChat` shows as its `error`.
 */
export interface RunErrorData {
  code: string;
  message: string;
  retryable: boolean;
  parentToolCallId?: string;
}

/**
 * The data parts a Forge run streams, for the client's message type:
 * `type ForgeUIMessage = UIMessage<ForgeMessageMetadata, ForgeDataParts>`.
 */
export type ForgeDataParts = {
  'file-change': FileChangeData;
  plan: PlanData;
  permission: PermissionData;
  question: QuestionData;
  error: RunErrorData;
};

/** The message metadata a Forge run streams (when `sendMetadata` is not false), under `forge`. */
export interface ForgeMessageMetadata {
  forge: {
    runId: string;
    provider: string;
    sessionId?: string;
    model?: string;
    /** Set when the run has ended. */
    status?: RunStatus;
    usage?: Usage;
    costUsd?: number;
    durationMs?: number;
    /** The checked structured answer, when the request had an `outputSchema`. */
    output?: unknown;
    error?: { code: string; message: string; retryable?: boolean };
  };
}
