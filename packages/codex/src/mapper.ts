import { lineNoticeEvent } from '@forge/core/internal';
import type { AgentEventInit, RunOutcome, Usage } from '@forge/core';
import { CodexErrorCode as C } from './error-codes.js';
import type { CodexEvent, CodexJsonlItem } from './jsonl.js';

type Emit = (event: AgentEventInit) => void;
type Obj = Record<string, unknown>;

/** Code of the `error` event a `Reconnecting... n/m (…)` line becomes: the CLI will try again. */
export const API_RETRY_CODE = C.API_RETRY;
/** Code of the `error` event an `error` item becomes: a warning, the run goes on. */
export const AGENT_WARNING_CODE = C.AGENT_WARNING;

/** Tool name of a command execution; the CLI reports the command, not the tool the model called. */
export const SHELL_TOOL = 'shell';
/** Tool name of a file change (the model's `apply_patch`). */
export const FILE_CHANGE_TOOL = 'file_change';

/** A model API failure the CLI reported, classified. */
export interface ApiFailure {
  code: string;
  message: string;
  retryable: boolean;
  httpStatus?: number;
}

/**
 * Maps `codex exec --json` events to core events, one run at a time. State is kept only where the
 * stream needs it: the thread id, which items were announced by `item.started` (so a command's
 * `tool.call` is emitted once), the last agent message, and how the turn ended.
 */
export class CodexEventMapper {
  sessionId: string | undefined;
  /** The last agent message (the run's final text). */
  lastMessage: string | undefined;
  /** Usage of the last `turn.completed` (cumulative for the turn). */
  usage: Usage | undefined;
  /** Turns that ended (`turn.completed` or `turn.failed`). */
  turns = 0;
  /** Set by `turn.completed`. */
  completed = false;
  /** Set by `turn.failed`: the run failed for this reason. */
  failure: ApiFailure | undefined;
  /** The native event that ended the turn. */
  terminal: CodexEvent | undefined;
  /** Items announced by `item.started` and not yet completed. */
  private readonly announced = new Set<string>();

  /** Events for one parser item: an event, a stray text line, or an oversize line. */
  mapItem(item: CodexJsonlItem, emit: Emit): void {
    if (item.kind === 'object') this.map(item.value, emit);
    else emit(lineNoticeEvent(item, 'JSONL'));
  }

  map(event: CodexEvent, emit: Emit): void {
    switch (event.type) {
      case 'thread.started': {
        const id = typeof event.thread_id === 'string' ? event.thread_id : '';
        if (id) this.sessionId = id;
        emit({ type: 'session.started', sessionId: id, raw: event });
        return;
      }
      case 'turn.started':
        emit({ type: 'log', text: 'turn.started', level: 'debug', raw: event });
        return;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        this.item(event, emit);
        return;
      case 'turn.completed': {
        this.turns++;
        this.completed = true;
        this.terminal = event;
        const usage = toUsage(event.usage as Obj | undefined);
        this.usage = usage;
        emit({ type: 'usage', usage, raw: event });
        return;
      }
      case 'turn.failed': {
        this.turns++;
        this.terminal = event;
        const error = event.error as Obj | undefined;
        this.failure = classifyApiError(typeof error?.message === 'string' ? error.message : 'The turn failed');
        return;
      }
      case 'error': {
        const message = typeof event.message === 'string' ? event.message : JSON.stringify(event);
        emit(errorEvent(message, event));
        return;
      }
      default:
        passThrough(event, emit);
    }
  }

  private item(event: CodexEvent, emit: Emit): void {
    const item = event.item as Obj | undefined;
    if (!item || typeof item.type !== 'string') {
      passThrough(event, emit);
      return;
    }
    const id = typeof item.id === 'string' ? item.id : '';
    const done = event.type === 'item.completed';
    switch (item.type) {
      case 'agent_message':
        if (!done) return;
        this.lastMessage = String(item.text ?? '');
        emit({ type: 'message', text: this.lastMessage, messageId: id, raw: event });
        return;
      case 'reasoning':
        if (!done) return;
        emit({ type: 'reasoning', text: String(item.text ?? ''), messageId: id, raw: event });
        return;
      case 'command_execution':
        this.announce(event, emit, id, done, SHELL_TOOL, { command: item.command });
        if (done)
          emit({
            type: 'tool.result',
            callId: id,
            output: typeof item.aggregated_output === 'string' ? item.aggregated_output : '',
            isError: item.status !== 'completed' || (typeof item.exit_code === 'number' && item.exit_code !== 0),
            raw: event,
          });
        return;
      case 'file_change':
        this.announce(event, emit, id, done, FILE_CHANGE_TOOL, { changes: item.changes ?? [] });
        if (done)
          emit({
            type: 'tool.result',
            callId: id,
            output: item.changes ?? [],
            isError: item.status !== 'completed',
            raw: event,
          });
        return;
      case 'mcp_tool_call': {
        const name = `${String(item.server ?? 'mcp')}.${String(item.tool ?? '')}`;
        this.announce(event, emit, id, done, name, item.arguments ?? {});
        if (!done) return;
        const error = item.error as Obj | null | undefined;
        emit(
          error
            ? { type: 'tool.result', callId: id, output: String(error.message ?? error), isError: true, raw: event }
            : {
                type: 'tool.result',
                callId: id,
                output: item.result ?? '',
                isError: item.status === 'failed',
                raw: event,
              },
        );
        return;
      }
      case 'web_search':
        this.announce(event, emit, id, done, 'web_search', { query: item.query });
        if (done)
          emit({
            type: 'tool.result',
            callId: id,
            output: item.action ?? item.query ?? '',
            isError: false,
            raw: event,
          });
        return;
      case 'todo_list': {
        const items = Array.isArray(item.items) ? (item.items as Obj[]) : [];
        const text = items.map((t) => `[${t.completed === true ? 'x' : ' '}] ${String(t.text ?? '')}`).join('\n');
        emit({ type: 'log', text: `plan:\n${text}`, level: 'info', raw: event });
        return;
      }
      case 'error':
        // Seen for warnings (e.g. "Model metadata for `x` not found"): the run goes on.
        if (!done) return;
        emit({
          type: 'error',
          code: AGENT_WARNING_CODE,
          message: String(item.message ?? ''),
          retryable: false,
          raw: event,
        });
        return;
      default:
        if (!done) return;
        // An item kind this adapter does not know (collab calls, new kinds): kept visible.
        emit({ type: 'log', text: `codex item "${item.type}"`, level: 'debug', raw: event });
    }
  }

  /**
   * A tool-like item's `tool.call`, once: at `item.started`, or at completion for an item that
   * had no start (file changes, web searches).
   */
  private announce(event: CodexEvent, emit: Emit, id: string, done: boolean, name: string, input: unknown): void {
    if (this.announced.has(id)) {
      // Forgotten once complete, so a long session's set stays small.
      if (done) this.announced.delete(id);
      return;
    }
    if (!done) this.announced.add(id);
    emit({ type: 'tool.call', callId: id, name, input, raw: event });
  }

  /** The outcome of a process whose output has ended; undefined when the turn never ended. */
  outcome(): RunOutcome | undefined {
    if (!this.completed && !this.failure) return undefined;
    const outcome: RunOutcome = { turns: this.turns };
    if (this.terminal) outcome.raw = this.terminal;
    if (this.sessionId) outcome.sessionId = this.sessionId;
    if (this.usage) outcome.usage = this.usage;
    if (this.lastMessage !== undefined) outcome.text = this.lastMessage;
    if (this.failure) {
      outcome.status = 'failed';
      outcome.error = { code: this.failure.code, message: this.failure.message, retryable: this.failure.retryable };
    } else outcome.status = 'completed';
    return outcome;
  }
}

const RECONNECTING = /^Reconnecting\.\.\./;

/** A top-level `error` line: a retry notice (`Reconnecting...`) or the final error before `turn.failed`. */
function errorEvent(message: string, raw: CodexEvent): AgentEventInit {
  if (RECONNECTING.test(message)) {
    return { type: 'error', code: API_RETRY_CODE, message, retryable: true, raw };
  }
  const failure = classifyApiError(message);
  const e: AgentEventInit = { type: 'error', code: failure.code, message, retryable: failure.retryable, raw };
  if (failure.httpStatus !== undefined) e.details = { httpStatus: failure.httpStatus };
  return e;
}

const STATUS = /\b(?:unexpected status|last status:)\s*(\d{3})\b/;

/**
 * The CLI reports a failed model call as text only; this reads the HTTP status back out of it.
 * Seen with 0.171.0: `unexpected status 401 Unauthorized: …` (auth and most 4xx), the raw error
 * body for a 400, `exceeded retry limit, last status: 429 …`, a fixed "high demand" sentence for
 * 5xx (the server's own message is dropped), and `stream disconnected before completion: …`.
 */
export function classifyApiError(message: string): ApiFailure {
  const status = STATUS.exec(message)?.[1];
  const httpStatus = status ? Number(status) : undefined;
  const at = (code: string, retryable: boolean, s = httpStatus): ApiFailure =>
    s === undefined ? { code, message, retryable } : { code, message, retryable, httpStatus: s };
  if (httpStatus === 401 || httpStatus === 403) return at(C.API_AUTH_ERROR, false);
  if (httpStatus === 429) return at(C.API_RATE_LIMITED, true);
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500) return at(C.API_REQUEST_ERROR, false);
  if (httpStatus !== undefined && httpStatus >= 500) return at(C.API_SERVER_ERROR, true);
  if (/currently experiencing high demand/i.test(message)) return at(C.API_SERVER_ERROR, true);
  if (/^\s*\{\s*"error"/.test(message)) return at(C.API_REQUEST_ERROR, false, 400);
  if (/^stream disconnected before completion/i.test(message)) return at(C.API_STREAM_ERROR, true);
  return at(C.API_ERROR, false);
}

function passThrough(event: CodexEvent, emit: Emit): void {
  const type = typeof event?.type === 'string' ? event.type : typeof event?.type;
  emit({ type: 'log', text: `unmapped codex event "${type}"`, level: 'debug', raw: event });
}

/**
 * Codex usage → core Usage. OpenAI counts cached tokens inside `input_tokens`; core counts them
 * apart (as Anthropic does), so `inputTokens` is the uncached part. `reasoningTokens` is part of
 * `outputTokens`, as OpenAI reports it.
 */
export function toUsage(u: Obj | undefined): Usage {
  const cached = num(u?.cached_input_tokens);
  const usage: Usage = {
    inputTokens: Math.max(0, num(u?.input_tokens) - cached),
    outputTokens: num(u?.output_tokens),
    cacheReadTokens: cached,
    cacheWriteTokens: num(u?.cache_write_input_tokens),
  };
  if (u && typeof u.reasoning_output_tokens === 'number') usage.reasoningTokens = num(u.reasoning_output_tokens);
  return usage;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The events of one native event, mapped on their own (a fresh mapper unless one is given). */
export function mapCodexEvent(event: CodexEvent, mapper: CodexEventMapper = new CodexEventMapper()): AgentEventInit[] {
  const out: AgentEventInit[] = [];
  mapper.map(event, (e) => out.push(e));
  return out;
}
