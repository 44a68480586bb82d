import type { z } from 'zod';
import type { AgentEvent, AgentResult } from './events.js';
import type { PendingRequest } from './pending-requests.js';
import type { JsonSchema, OutputSchemaInput } from './output-schema.js';
import type { AgentRequestInput } from './request.js';

/** A request whose `outputSchema` is `S`, so `execute` can type `result.output` from it. */
export type AgentRequestInputWith<S> = Omit<AgentRequestInput, 'outputSchema'> & { outputSchema?: S };

/** What `result.output` holds for an `outputSchema` of type `S`: a zod schema's output, else unknown JSON. */
export type OutputOf<S> = S extends z.ZodType ? z.output<S> : unknown;

/** How a provider honours `request.outputSchema`: by its own means, by core's check-and-repair loop, or not. */
export type StructuredOutputSupport = 'native' | 'emulated' | false;

/**
 * What an adapter can do, declared once (statically, in its `declared-capabilities.ts`): `capabilities()` returns
 * it (plus what only a probe can know: version, availability, models), `execute()` refuses any request field it
 * does not declare with UNSUPPORTED_FIELD before any work, and `pnpm docs` renders the provider tables from it.
 * A request field is honoured natively, emulated by core, or refused — never ignored.
 */
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
  /** `request.attachments` of kind `file` reach the agent. */
  attachments: boolean;
  /** `request.attachments` of kind `image` reach the agent. */
  images: boolean;
  /** `request.systemPrompt` reaches the agent. */
  systemPrompt: boolean;
  /** `request.allowedTools` / `disallowedTools` are enforced. */
  toolFilter: boolean;
  /** `request.maxTurns` is enforced. */
  maxTurns: boolean;
  /** `request.env` applies to this run alone (false where one agent process or server serves every run). */
  env: boolean;
  /** `request.mcpServers` are given to the agent for this run. */
  mcpServers: boolean;
  /** `request.outputSchema` (and `outputRepairs`): the checked answer lands in `AgentResult.output`. */
  structuredOutput: StructuredOutputSupport;
  /** `request.effort` sets the model's reasoning effort. */
  effort: boolean;
  /** `request.approvals`: rules decide permission requests, the rest go to the host, unanswered ones time out. */
  approvals: boolean;
  /** `request.questions.unanswered`: a question nobody answers in time cancels or fails the run. */
  questionDeadlines: boolean;
  /** `request.budget`: the run stops at its cost, token or turn limit. */
  budget: boolean;
  /**
   * `usage` events carry `costUsd` (what each model call cost), so `budget.maxCostUsd` needs no `pricing`.
   * Absent means false.
   */
  usageCost?: boolean;
  /** `request.fork`: continue `sessionId` in a new session, leaving the original untouched. */
  fork: boolean;
  /** `run.steer()` sends more text to the agent while it works. */
  steering: boolean;
  /** A session can be exported and resumed on another machine (or pod). */
  sessionPortability: boolean;
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

/** An adapter's static declaration, and the capabilities only its agent's handshake decides (false in it). */
export interface Declaration {
  readonly capabilities: AgentCapabilities;
  /** Not refused up front: the adapter refuses them at the start of the run when the handshake says no. */
  readonly probed: readonly (keyof AgentCapabilities)[];
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
 * `O` is the type of `result.output`: what a zod `outputSchema` outputs, else `unknown` (as `execute` infers it).
 * A bare `AgentRun` leaves it open, so every implementation of `CodeAgent.execute` that returns `AgentRun` fits.
 */
// biome-ignore lint/suspicious/noExplicitAny: the open default is what lets untyped implementations satisfy execute
export type AnyOutput = any;

/**
 * One run of an agent: iterate it for events (ending with exactly one `run.completed`), or await
 * `result`. Events are buffered until read, so a late or slow reader loses nothing; see
 * `RunOptions.highWaterMark` / `maxBufferedEvents` for the bound.
 */
export interface AgentRun<O = AnyOutput> extends AsyncIterable<AgentEvent> {
  readonly id: string;
  readonly provider: string;
  readonly result: Promise<AgentResult<O>>;
  /** Idempotent and safe at any moment; resolves once the run has ended. */
  cancel(reason?: string): Promise<AgentResult<O>>;
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
  /**
   * The permission requests and questions waiting for an answer now, as the events that asked them (in `seq`
   * order) — so a host that reconnects, or reads late, knows what to answer without replaying the stream.
   */
  pending(): PendingRequest[];
  /**
   * Sends more text to the agent while it works (a steering message), without ending the turn. Throws
   * UnsupportedError where the provider does not declare `steering` (a steer right after `execute` waits for the
   * run function to start and install its handler), RUN_FINISHED once the run has ended.
   */
  steer(text: string): Promise<void>;
}

/** The port every provider implements. */
export interface CodeAgent {
  readonly provider: string;
  /**
   * What the adapter declares it supports, known without any probe; `execute()` refuses what it does not declare.
   * Absent on agents built without `createCodeAgent` that declare nothing of their own.
   */
  readonly declared?: Declaration;
  capabilities(): Promise<AgentCapabilities>;
  /**
   * Validates synchronously (throws ValidationError before any work) and starts the run. With a zod
   * `outputSchema`, `result.output` is typed as what that schema outputs.
   */
  execute<S extends OutputSchemaInput = JsonSchema>(
    request: AgentRequestInputWith<S>,
    options?: ExecuteOptions,
  ): AgentRun<OutputOf<S>>;
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
  env: true,
  mcpServers: false,
  structuredOutput: false,
  effort: false,
  approvals: false,
  questionDeadlines: false,
  budget: false,
  fork: false,
  steering: false,
  sessionPortability: false,
  models: [],
  ...overrides,
});
