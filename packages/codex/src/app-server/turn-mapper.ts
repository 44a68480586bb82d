import type { AgentEventInit, RunOutcome, Usage } from '@forge/core';
import { CodexErrorCode as C } from '../error-codes.js';
import type { ThreadItem } from '../gen/v2/ThreadItem.js';
import type { Turn } from '../gen/v2/Turn.js';
import type { TurnError } from '../gen/v2/TurnError.js';
import type { TokenUsageBreakdown } from '../gen/v2/TokenUsageBreakdown.js';
import type { TurnPlanUpdatedNotification } from '../gen/v2/TurnPlanUpdatedNotification.js';
import { type ApiFailure, classifyApiError, FILE_CHANGE_TOOL, SHELL_TOOL } from '../mapper.js';
import { FilesChanged, fileChanged, planEntries } from './file-changes.js';

type Emit = (event: AgentEventInit) => void;
type Params = Record<string, unknown>;

/**
 * Maps one turn's app-server notifications onto core events: `item/agentMessage/delta` → `text.delta`, items →
 * `message` / `reasoning` / `tool.call` + `tool.result`, each model call's token usage → `usage` as it arrives. Tool names are those
 * of the `exec` transport (`shell`, `file_change`, `server.tool`), so consumers see one vocabulary.
 */
export class TurnMapper {
  lastMessage: string | undefined;
  /** Set by `turn/completed`. */
  turn: Turn | undefined;
  /** The last `error` notification that was not going to be retried. */
  failure: ApiFailure | undefined;
  private usage: Usage | undefined;
  private readonly announced = new Set<string>();
  /** Items seen by `item/started` (fileChange approvals look their paths up here). */
  readonly items = new Map<string, ThreadItem>();
  /** The files the turn's applied `fileChange` items changed. */
  readonly files = new FilesChanged();

  constructor(
    private turnId: string | undefined = undefined,
    /** The run's cwd: `file.changed` paths inside it are relative to it. */
    private readonly cwd: string | undefined = undefined,
  ) {}

  setTurnId(id: string): void {
    this.turnId = id;
  }

  /** Whether a notification belongs to this turn (before `turn/start` answered, every one of the thread does). */
  mine(params: Params): boolean {
    const id = typeof params.turnId === 'string' ? params.turnId : (params.turn as Turn | undefined)?.id;
    return this.turnId === undefined || id === undefined || id === this.turnId;
  }

  map(method: string, params: Params, emit: Emit): void {
    switch (method) {
      case 'item/agentMessage/delta':
        emit({
          type: 'text.delta',
          text: String(params.delta ?? ''),
          messageId: String(params.itemId ?? ''),
          raw: params,
        });
        return;
      case 'item/started':
      case 'item/completed':
        this.item(params.item as ThreadItem | undefined, method === 'item/completed', params, emit);
        return;
      case 'turn/plan/updated': {
        // The whole plan each time, as `plan.updated` wants it.
        const { plan } = params as unknown as TurnPlanUpdatedNotification;
        emit({ type: 'plan.updated', entries: planEntries(plan), raw: params });
        return;
      }
      case 'thread/tokenUsage/updated': {
        // One model call's tokens, reported as it ends: a `usage` event each, so a budget can stop a turn whose
        // model keeps calling tools (the turn's own end may never come).
        const last = (params.tokenUsage as { last?: TokenUsageBreakdown } | undefined)?.last;
        if (!last) return;
        this.usage = addBreakdown(this.usage, last);
        emit({ type: 'usage', usage: addBreakdown(undefined, last), raw: params });
        return;
      }
      case 'error': {
        const error = params.error as TurnError | undefined;
        const message = error?.message ?? 'Codex reported an error';
        if (params.willRetry === true) {
          emit({ type: 'error', code: C.API_RETRY, message, retryable: true, raw: params });
          return;
        }
        this.failure = classifyTurnError(error);
        emit({ type: 'error', code: this.failure.code, message, retryable: this.failure.retryable, raw: params });
        return;
      }
      case 'turn/completed':
        this.turn = params.turn as Turn;
        if (this.turn?.status === 'failed' && this.turn.error) this.failure = classifyTurnError(this.turn.error);
        // A turn whose model calls reported nothing still reports its (empty) usage once.
        if (!this.usage) emit({ type: 'usage', usage: zero(), raw: params });
        return;
      default:
        emit({ type: 'log', text: `codex ${method}`, level: 'debug', raw: params });
    }
  }

  private item(item: ThreadItem | undefined, done: boolean, raw: Params, emit: Emit): void {
    if (!item || typeof item.type !== 'string') return;
    if (!done) this.items.set(item.id, item);
    else this.items.delete(item.id);
    switch (item.type) {
      case 'agentMessage':
        if (!done) return;
        this.lastMessage = item.text;
        emit({ type: 'message', text: item.text, messageId: item.id, raw });
        return;
      case 'reasoning': {
        if (!done) return;
        const text = (item.summary.length ? item.summary : item.content).join('\n');
        if (text) emit({ type: 'reasoning', text, messageId: item.id, raw });
        return;
      }
      case 'commandExecution':
        this.announce(item.id, done, SHELL_TOOL, { command: item.command, cwd: item.cwd }, raw, emit);
        if (done)
          emit({
            type: 'tool.result',
            callId: item.id,
            output: item.aggregatedOutput ?? (item.status === 'declined' ? 'declined' : ''),
            isError: item.status !== 'completed' || (item.exitCode !== null && item.exitCode !== 0),
            raw,
          });
        return;
      case 'fileChange':
        this.announce(item.id, done, FILE_CHANGE_TOOL, { changes: item.changes }, raw, emit);
        if (!done) return;
        emit({ type: 'tool.result', callId: item.id, output: item.changes, isError: item.status !== 'completed', raw });
        // Made, not proposed: a declined or failed patch changed nothing.
        if (item.status === 'completed')
          for (const change of item.changes) {
            const body = fileChanged(change, this.cwd);
            this.files.add(body);
            emit({ type: 'file.changed', ...body, toolCallId: item.id, raw });
          }
        return;
      case 'mcpToolCall':
        this.announce(item.id, done, `${item.server}.${item.tool}`, item.arguments ?? {}, raw, emit);
        if (done)
          emit(
            item.error
              ? { type: 'tool.result', callId: item.id, output: item.error.message, isError: true, raw }
              : {
                  type: 'tool.result',
                  callId: item.id,
                  output: item.result ?? '',
                  isError: item.status === 'failed',
                  raw,
                },
          );
        return;
      case 'userMessage':
        return;
      default:
        if (done) emit({ type: 'log', text: `codex item "${item.type}"`, level: 'debug', raw });
    }
  }

  private announce(id: string, done: boolean, name: string, input: unknown, raw: Params, emit: Emit): void {
    if (this.announced.has(id)) {
      if (done) this.announced.delete(id);
      return;
    }
    if (!done) this.announced.add(id);
    emit({ type: 'tool.call', callId: id, name, input, raw });
  }

  /** The run's outcome once the turn has completed; undefined before. */
  outcome(sessionId: string): RunOutcome | undefined {
    const turn = this.turn;
    if (!turn) return undefined;
    const outcome: RunOutcome = { sessionId, turns: 1, raw: turn, usage: this.usage ?? zero() };
    const files = this.files.list();
    if (files.length) outcome.filesChanged = files;
    if (this.lastMessage !== undefined) outcome.text = this.lastMessage;
    if (turn.status === 'failed' || (turn.status !== 'interrupted' && this.failure)) {
      const f = this.failure ?? { code: C.API_ERROR, message: 'The turn failed', retryable: false };
      outcome.status = 'failed';
      outcome.error = { code: f.code, message: f.message, retryable: f.retryable };
    } else if (turn.status !== 'interrupted') outcome.status = 'completed';
    // An interrupted turn has no status of its own: only Forge interrupts, and core names it by its stop reason.
    return outcome;
  }
}

const zero = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

/** Adds one model call's breakdown; cached tokens are counted apart from input, as the `exec` mapper does. */
function addBreakdown(u: Usage | undefined, b: TokenUsageBreakdown): Usage {
  const base = u ?? { ...zero(), reasoningTokens: 0 };
  return {
    inputTokens: base.inputTokens + Math.max(0, b.inputTokens - b.cachedInputTokens),
    outputTokens: base.outputTokens + b.outputTokens,
    cacheReadTokens: base.cacheReadTokens + b.cachedInputTokens,
    cacheWriteTokens: base.cacheWriteTokens + b.cacheWriteInputTokens,
    reasoningTokens: (base.reasoningTokens ?? 0) + b.reasoningOutputTokens,
  };
}

/**
 * A turn error → Forge's code. The message is classified as `exec`'s is (same CLI text); the structured
 * `codexErrorInfo` adds what the text lacks (the HTTP status of a failed connection).
 */
export function classifyTurnError(error: TurnError | null | undefined): ApiFailure {
  const message = error?.message ?? 'The turn failed';
  const info = error?.codexErrorInfo;
  const fromText = classifyApiError(message);
  if (fromText.code !== C.API_ERROR) return fromText;
  if (info === 'unauthorized') return { code: C.API_AUTH_ERROR, message, retryable: false, httpStatus: 401 };
  if (info === 'rateLimitExceeded' || info === 'usageLimitExceeded')
    return { code: C.API_RATE_LIMITED, message, retryable: true };
  if (info === 'internalServerError' || info === 'serverOverloaded')
    return { code: C.API_SERVER_ERROR, message, retryable: true };
  if (info === 'badRequest') return { code: C.API_REQUEST_ERROR, message, retryable: false };
  if (info && typeof info === 'object') {
    const status = Object.values(info as Record<string, { httpStatusCode?: number | null }>)[0]?.httpStatusCode;
    if (typeof status === 'number') return classifyApiError(`unexpected status ${status}: ${message}`);
    if ('responseStreamDisconnected' in info) return { code: C.API_STREAM_ERROR, message, retryable: true };
  }
  return fromText;
}
