import { lineNoticeEvent } from '@forge/core/internal';
import { addUsage, type AgentEventInit, type RunOutcome, type Usage } from '@forge/core';
import { FileChangeTracker } from './file-changes.js';
import { PlanTracker } from './plan-tracker.js';
import type { ClaudeMessage, StreamJsonItem } from './stream-json.js';

type Emit = (event: AgentEventInit) => void;
type Obj = Record<string, unknown>;

/** Code of the `error` event a `system/api_retry` line becomes. */
export const API_RETRY_CODE = 'API_RETRY';

/**
 * Maps the CLI's native stream-json messages to core events, one run at a time. It is stateful
 * only where the stream needs it: which API message a `stream_event` delta belongs to, and which
 * messages already had their usage reported (one API message arrives as several `assistant`
 * lines, one per content block, each repeating the same usage).
 */
export class ClaudeEventMapper {
  sessionId: string | undefined;
  /** The `result` message, once seen. */
  result: ClaudeMessage | undefined;
  /** Key: parent_tool_use_id ('' for the main agent); value: the API message being streamed. */
  private streaming = new Map<string, { id: string | undefined; usage: Obj | undefined }>();
  /** Messages whose usage was (or will be) reported. */
  private usageDone = new Set<string>();

  /** Where the run's files are: the CLI's own word (`system/init`), else what the run was started with. */
  private cwd: string | undefined;
  /** `Write` / `Edit` / … → `file.changed`; off (`diffs: false`) only to measure what the diffs cost. */
  private readonly files: FileChangeTracker | undefined;
  private readonly plan = new PlanTracker();

  constructor(cwd?: string, options: { diffs?: boolean } = {}) {
    this.cwd = cwd;
    this.files = options.diffs === false ? undefined : new FileChangeTracker(() => this.cwd);
  }

  /** The run's outcome with what the mapper gathered along the way (the files changed). */
  finish(outcome: RunOutcome): RunOutcome {
    const files = this.files?.filesChanged ?? [];
    return files.length > 0 ? { ...outcome, filesChanged: files } : outcome;
  }

  /** Events for one parser item: a message, a stray text line, or an oversize line. */
  mapItem(item: StreamJsonItem, emit: Emit): void {
    if (item.kind === 'object') this.map(item.value, emit);
    else emit(lineNoticeEvent(item, 'stream-json'));
  }

  map(msg: ClaudeMessage, emit: Emit): void {
    // Everything a subagent does (the `Task` tool's own conversation) is nested under that tool call.
    if (typeof msg.parent_tool_use_id === 'string' && msg.parent_tool_use_id) {
      const parentToolCallId = msg.parent_tool_use_id;
      const outer = emit;
      emit = (e) => outer({ ...e, parentToolCallId });
    }
    switch (msg.type) {
      case 'stream_event':
        this.streamEvent(msg, emit);
        return;
      case 'assistant':
        this.assistant(msg, emit);
        return;
      case 'user':
        this.user(msg, emit);
        return;
      case 'system':
        this.system(msg, emit);
        return;
      case 'result':
        this.result = msg;
        if (typeof msg.session_id === 'string') this.sessionId = msg.session_id;
        return;
      default:
        passThrough(msg, emit);
    }
  }

  private streamEvent(msg: ClaudeMessage, emit: Emit): void {
    const event = msg.event as Obj | undefined;
    if (!event) {
      passThrough(msg, emit);
      return;
    }
    const key = typeof msg.parent_tool_use_id === 'string' ? msg.parent_tool_use_id : '';
    switch (event.type) {
      case 'content_block_delta': {
        const delta = event.delta as Obj | undefined;
        if (delta?.type === 'text_delta' && typeof delta.text === 'string') {
          const id = this.streaming.get(key)?.id;
          emit(
            id === undefined
              ? { type: 'text.delta', text: delta.text, raw: msg }
              : { type: 'text.delta', text: delta.text, messageId: id, raw: msg },
          );
        }
        return;
      }
      case 'message_start': {
        const message = event.message as Obj | undefined;
        const id = typeof message?.id === 'string' ? message.id : undefined;
        this.streaming.set(key, { id, usage: message?.usage as Obj | undefined });
        // The whole `assistant` lines follow with a provisional usage; the final one is message_delta's.
        if (id !== undefined) this.usageDone.add(id);
        return;
      }
      case 'message_delta': {
        const current = this.streaming.get(key);
        const usage = { ...current?.usage, ...(event.usage as Obj | undefined) };
        const u: AgentEventInit = { type: 'usage', usage: toUsage(usage), raw: msg };
        if (current?.id !== undefined) u.messageId = current.id;
        emit(u);
        return;
      }
      default:
        // content_block_start/stop, message_stop, ping, thinking/input_json/signature deltas:
        // wire-level pieces whose content arrives whole in the `assistant` lines.
        return;
    }
  }

  private assistant(msg: ClaudeMessage, emit: Emit): void {
    const message = msg.message as Obj | undefined;
    const content = message?.content;
    if (!Array.isArray(content)) {
      passThrough(msg, emit);
      return;
    }
    const id = typeof message!.id === 'string' ? message!.id : undefined;
    const messageId = id === undefined ? {} : { messageId: id };
    for (const block of content as Obj[]) {
      switch (block?.type) {
        case 'text':
          emit({ type: 'message', text: String(block.text ?? ''), ...messageId, raw: msg });
          break;
        case 'thinking':
          emit({ type: 'reasoning', text: String(block.thinking ?? ''), ...messageId, raw: msg });
          break;
        case 'tool_use':
        case 'server_tool_use':
          this.files?.call(String(block.id ?? ''), String(block.name ?? ''), block.input);
          this.plan.call(String(block.id ?? ''), String(block.name ?? ''), block.input);
          emit({
            type: 'tool.call',
            callId: String(block.id ?? ''),
            name: String(block.name ?? ''),
            input: block.input ?? {},
            raw: msg,
          });
          break;
        default:
          emit({ type: 'log', text: `assistant content block "${String(block?.type)}"`, level: 'debug', raw: msg });
      }
    }
    if (id !== undefined && !this.usageDone.has(id) && message!.usage) {
      this.usageDone.add(id);
      emit({ type: 'usage', usage: toUsage(message!.usage as Obj), messageId: id, raw: msg });
    }
  }

  private user(msg: ClaudeMessage, emit: Emit): void {
    // The CLI's echo of a message written to its stdin (`--replay-user-messages`): the host sent it.
    if (msg.isReplay === true) return;
    const content = (msg.message as Obj | undefined)?.content;
    if (typeof content === 'string') {
      emit({ type: 'log', text: content, level: 'info', raw: msg });
      return;
    }
    if (!Array.isArray(content)) {
      passThrough(msg, emit);
      return;
    }
    // The CLI's structured detail of a tool's result (`tool_use_result`) is one per line.
    const results = (content as Obj[]).filter((b) => b?.type === 'tool_result').length;
    for (const block of content as Obj[]) {
      if (block?.type === 'tool_result') {
        const callId = String(block.tool_use_id ?? '');
        const isError = block.is_error === true;
        const output = toolOutput(block.content);
        emit({ type: 'tool.result', callId, output, isError, raw: msg });
        const detail = results === 1 ? msg.tool_use_result : undefined;
        this.files?.result(callId, isError, detail, output, emit);
        const entries = this.plan.result(callId, isError, detail);
        if (entries) emit({ type: 'plan.updated', entries });
      } else if (block?.type === 'text') {
        // e.g. "[Request interrupted by user for tool use]" after SIGINT.
        emit({ type: 'log', text: String(block.text ?? ''), level: 'info', raw: msg });
      } else {
        emit({ type: 'log', text: `user content block "${String(block?.type)}"`, level: 'debug', raw: msg });
      }
    }
  }

  private system(msg: ClaudeMessage, emit: Emit): void {
    if (msg.subtype === 'init') {
      const sessionId = typeof msg.session_id === 'string' ? msg.session_id : '';
      this.sessionId = sessionId || this.sessionId;
      if (typeof msg.cwd === 'string' && msg.cwd) this.cwd = msg.cwd;
      const e: AgentEventInit = { type: 'session.started', sessionId, raw: msg };
      if (typeof msg.model === 'string') e.model = msg.model;
      if (Array.isArray(msg.tools)) e.tools = msg.tools.map(String);
      if (typeof msg.cwd === 'string') e.cwd = msg.cwd;
      if (typeof msg.permissionMode === 'string') e.permissionMode = msg.permissionMode;
      emit(e);
      return;
    }
    if (msg.subtype === 'api_retry') {
      emit(apiRetryEvent(msg));
      return;
    }
    // status, thinking_tokens, compact_boundary, hooks…: visible to a host that wants them.
    emit({ type: 'log', text: `system/${String(msg.subtype)}`, level: 'debug', raw: msg });
  }
}

/** A `system/api_retry` line: the CLI failed a model call and will try again. */
export function apiRetryEvent(msg: ClaudeMessage): AgentEventInit {
  const status = msg.error_status;
  const err = typeof msg.error === 'string' ? msg.error : msg.error === undefined ? '' : JSON.stringify(msg.error);
  return {
    type: 'error',
    code: API_RETRY_CODE,
    message: `Model API call failed${status == null ? '' : ` (HTTP ${String(status)})`}${err ? `: ${err}` : ''}; retry ${String(msg.attempt ?? '?')} of ${String(msg.max_retries ?? '?')} in ${typeof msg.retry_delay_ms === 'number' ? Math.round(msg.retry_delay_ms) : '?'} ms`,
    retryable: true,
    details: {
      attempt: msg.attempt,
      maxRetries: msg.max_retries,
      retryDelayMs: msg.retry_delay_ms,
      errorStatus: status,
      error: msg.error,
    },
    raw: msg,
  };
}

function passThrough(msg: ClaudeMessage, emit: Emit): void {
  const type = typeof msg?.type === 'string' ? msg.type : typeof msg?.type;
  emit({
    type: 'log',
    text: `unmapped claude-code message "${type}${msg?.subtype === undefined ? '' : `/${String(msg.subtype)}`}"`,
    level: 'debug',
    raw: msg,
  });
}

function toolOutput(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? '';
  // The usual array form is text blocks; join them. Anything richer (images) is kept as is.
  let text = '';
  for (const part of content as Obj[]) {
    if (part?.type !== 'text' || typeof part.text !== 'string') return content;
    text += part.text;
  }
  return text;
}

/** Anthropic API usage → core Usage. */
export function toUsage(u: Obj | undefined): Usage {
  return {
    inputTokens: num(u?.input_tokens),
    outputTokens: num(u?.output_tokens),
    cacheReadTokens: num(u?.cache_read_input_tokens),
    cacheWriteTokens: num(u?.cache_creation_input_tokens),
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * A `result` message → the run's outcome. `success` completes; every error subtype fails with
 * its subtype upper-cased as the code (`error_max_turns` → `ERROR_MAX_TURNS`), and a `success`
 * flagged `is_error` (an API error the CLI gave up on) fails as `API_AUTH_ERROR` (HTTP 401/403)
 * or `API_ERROR` (anything else). `structured_output` (`--json-schema`) is the outcome's `output`, unchecked:
 * core checks it against the schema. `earlier`: results of turns the same run went through before (steering
 * can make the CLI run more than one); their usage and turns count too.
 */
export function resultOutcome(result: ClaudeMessage, earlier: readonly ClaudeMessage[] = []): RunOutcome {
  const outcome: RunOutcome = { raw: result };
  let usage = toUsage(result.usage as Obj | undefined);
  for (const r of earlier) usage = addUsage(usage, toUsage(r.usage as Obj | undefined));
  if (result.structured_output !== undefined && result.structured_output !== null)
    outcome.output = result.structured_output;
  // An interrupted run reports zeros; the per-message usage seen so far is the better figure then.
  if (usage.inputTokens || usage.outputTokens || usage.cacheReadTokens || usage.cacheWriteTokens) outcome.usage = usage;
  if (typeof result.session_id === 'string') outcome.sessionId = result.session_id;
  if (typeof result.total_cost_usd === 'number') outcome.costUsd = result.total_cost_usd;
  if (typeof result.num_turns === 'number')
    outcome.turns = earlier.reduce((n, r) => n + num(r.num_turns), result.num_turns);
  // Without a final text (an interrupted run) the run keeps the last message it saw.
  const text = typeof result.result === 'string' ? result.result : '';
  if (typeof result.result === 'string') outcome.text = text;
  const subtype = typeof result.subtype === 'string' ? result.subtype : 'unknown';
  if (subtype === 'success' && result.is_error !== true) {
    outcome.status = 'completed';
    return outcome;
  }
  outcome.status = 'failed';
  const errors = Array.isArray(result.errors) ? result.errors.map(String).join('; ') : '';
  const apiStatus = typeof result.api_error_status === 'number' ? result.api_error_status : undefined;
  const code =
    subtype !== 'success'
      ? subtype.toUpperCase()
      : apiStatus === 401 || apiStatus === 403
        ? 'API_AUTH_ERROR'
        : 'API_ERROR';
  const status = result.api_error_status == null ? '' : ` (HTTP ${String(result.api_error_status)})`;
  outcome.error = { code, message: errors || text || `Claude Code ended with ${subtype}${status}` };
  return outcome;
}

/** The events of one native message, mapped on their own (a fresh mapper unless one is given). */
export function mapClaudeMessage(
  message: ClaudeMessage,
  mapper: ClaudeEventMapper = new ClaudeEventMapper(),
): AgentEventInit[] {
  const out: AgentEventInit[] = [];
  mapper.map(message, (e) => out.push(e));
  return out;
}
