/** Token counts of a run or a message. Providers fill what they know; the rest stays 0. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens?: number;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  const out: Usage = {
    inputTokens: a.inputTokens + (b.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b.outputTokens ?? 0),
    cacheReadTokens: a.cacheReadTokens + (b.cacheReadTokens ?? 0),
    cacheWriteTokens: a.cacheWriteTokens + (b.cacheWriteTokens ?? 0),
  };
  if (a.reasoningTokens !== undefined || b.reasoningTokens !== undefined) {
    out.reasoningTokens = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  }
  return out;
}

export interface QuestionOption {
  label: string;
  description?: string;
}

/** One question the agent asks the user; `run.answer` takes one array of labels (or typed text) per question. */
export interface Question {
  question: string;
  /** A short title (a chip or tab label). */
  header?: string;
  options: QuestionOption[];
  /** More than one option may be chosen. */
  multiple: boolean;
  /** Free text is allowed besides the options. */
  custom: boolean;
}

export type RunStatus = 'completed' | 'failed' | 'cancelled' | 'timed_out';

/** `O` is the type of `output`: what a zod `outputSchema` outputs, in the TypeScript API. */
export interface AgentResult<O = unknown> {
  status: RunStatus;
  /** The final assistant text ('' when there was none). */
  text: string;
  /** The provider's session, so the conversation can be resumed — cancelled runs included. */
  sessionId?: string;
  usage: Usage;
  costUsd?: number;
  durationMs: number;
  turns: number;
  /** Set whenever status is not `completed`; `retryable` when trying the same request again may succeed. */
  error?: { code: string; message: string; retryable?: boolean };
  /** The final answer parsed and checked against `request.outputSchema`, when the request had one. */
  output?: O;
  /** Every file the run changed, once per path, with its last change. */
  filesChanged?: FileChange[];
}

export type FileChangeKind = 'added' | 'modified' | 'deleted' | 'renamed';

/** One file a run changed; `oldPath` for a rename. */
export interface FileChange {
  path: string;
  change: FileChangeKind;
  oldPath?: string;
}

export type PlanEntryStatus = 'pending' | 'in_progress' | 'completed';

/** One step of the agent's plan (its todo list). */
export interface PlanEntry {
  id?: string;
  content: string;
  status: PlanEntryStatus;
  priority?: 'low' | 'medium' | 'high';
}

/** How a permission request ended: the host's answer, a rule of `request.approvals`, or its `unanswered` deadline. */
export type PermissionResolution = 'allow' | 'allow_always' | 'deny' | 'cancel';

/** Fields every event carries. `seq` is 1, 2, 3… per run, without gaps. `time` is epoch ms. */
export interface EventEnvelope {
  runId: string;
  seq: number;
  time: number;
  provider: string;
  /** The provider's native event, untouched, where there is one. */
  raw?: unknown;
  /** The tool call (a sub-agent, a task) this event happened inside, where the provider says. */
  parentToolCallId?: string;
}

export type AgentEventBody =
  | {
      type: 'session.started';
      sessionId: string;
      model?: string;
      tools?: string[];
      cwd?: string;
      permissionMode?: string;
    }
  | { type: 'text.delta'; text: string; messageId?: string }
  | { type: 'message'; text: string; messageId?: string }
  | { type: 'reasoning'; text: string; messageId?: string }
  | { type: 'tool.call'; callId: string; name: string; input: unknown }
  | { type: 'tool.result'; callId: string; output: unknown; isError: boolean }
  | { type: 'permission.requested'; id: string; tool: string; input: unknown }
  | { type: 'question.requested'; id: string; questions: Question[] }
  | { type: 'permission.resolved'; id: string; decision: PermissionResolution; by: 'host' | 'rule' | 'unanswered' }
  | { type: 'question.resolved'; id: string; by: 'host' | 'unanswered' }
  | {
      type: 'file.changed';
      path: string;
      change: FileChangeKind;
      /** A unified diff, where the provider gives one. */
      diff?: string;
      oldPath?: string;
      toolCallId?: string;
    }
  | { type: 'plan.updated'; entries: PlanEntry[] }
  | { type: 'usage'; usage: Usage; costUsd?: number; messageId?: string }
  | { type: 'log'; text: string; level?: 'debug' | 'info' | 'warn' | 'error'; stream?: 'stdout' | 'stderr' }
  | { type: 'error'; code: string; message: string; retryable: boolean; details?: Record<string, unknown> }
  | { type: 'run.completed'; result: AgentResult };

export type AgentEventType = AgentEventBody['type'];

export type AgentEvent = AgentEventBody & EventEnvelope;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What an adapter emits: the body plus an optional `raw`; the run adds the envelope. */
export type AgentEventInit = DistributiveOmit<Exclude<AgentEventBody, { type: 'run.completed' }>, never> & {
  raw?: unknown;
  parentToolCallId?: string;
};

export type AgentEventOf<T extends AgentEventType> = Extract<AgentEvent, { type: T }>;

export const AGENT_EVENT_TYPES: readonly AgentEventType[] = [
  'session.started',
  'text.delta',
  'message',
  'reasoning',
  'tool.call',
  'tool.result',
  'permission.requested',
  'question.requested',
  'permission.resolved',
  'question.resolved',
  'file.changed',
  'plan.updated',
  'usage',
  'log',
  'error',
  'run.completed',
];

export function isTerminalEvent(event: AgentEvent): event is AgentEventOf<'run.completed'> {
  return event.type === 'run.completed';
}
