import type { AgentEventInit, FileChange, Usage } from '@forge/core';
import { type AcpDiff, diffContent, FileChangeLog } from './file-changes.js';
import { planEntries } from './plan-entries.js';

/** A `session/update` notification's params as they came off the wire (only the fields the mapper reads are typed). */
export interface SessionNotificationParams {
  sessionId: string;
  update: SessionUpdateLike;
  _meta?: Record<string, unknown> | null;
}

export interface SessionUpdateLike {
  sessionUpdate: string;
  [key: string]: unknown;
}

/** What a permission request names: the tool call it is about, as the agent describes it. */
export interface ToolCallLike {
  toolCallId: string;
  title?: string | null;
  kind?: string | null;
  name?: string | null;
  status?: string | null;
  rawInput?: unknown;
  rawOutput?: unknown;
  content?: unknown[] | null;
  locations?: Array<{ path?: string }> | null;
  _meta?: Record<string, unknown> | null;
}

type Emit = (event: AgentEventInit) => void;
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the envelope of a `session/update` and returns it untouched (so `raw` is what the agent
 * sent). Used as the SDK's params parser instead of its zod schema: that schema strips fields it
 * does not know and rejects update kinds newer than this SDK, where Forge keeps both (an unknown
 * kind becomes a `log` with its raw message). Throws what the SDK turns into "invalid params".
 */
export function parseSessionNotification(params: unknown): SessionNotificationParams {
  if (
    !isObject(params) ||
    typeof params.sessionId !== 'string' ||
    !isObject(params.update) ||
    typeof params.update.sessionUpdate !== 'string'
  ) {
    throw new TypeError('session/update needs { sessionId: string, update: { sessionUpdate: string } }');
  }
  return params as unknown as SessionNotificationParams;
}

/** The text of content blocks (ACP `ContentBlock` or tool-call `{ type: 'content', content }`), joined. */
export function contentText(content: unknown): string {
  if (!Array.isArray(content)) return isObject(content) && typeof content.text === 'string' ? content.text : '';
  let out = '';
  for (const item of content) {
    if (!isObject(item)) continue;
    if (typeof item.text === 'string') out += item.text;
    else if (item.type === 'content' && isObject(item.content) && typeof item.content.text === 'string')
      out += item.content.text;
  }
  return out;
}

/** The tool's programmatic name where the agent gives one, else its kind, else its title. */
export function toolName(call: ToolCallLike): string {
  if (typeof call.name === 'string' && call.name) return call.name;
  const meta = call._meta;
  // claude-code-acp names the Claude tool (Bash, Write, mcp__acp__Write) in its _meta.
  const claude = isObject(meta) && isObject(meta.claudeCode) ? meta.claudeCode : undefined;
  if (claude && typeof claude.toolName === 'string') return claude.toolName;
  if (typeof call.kind === 'string' && call.kind) return call.kind;
  if (typeof call.title === 'string' && call.title) return call.title;
  return 'tool';
}

const isEmptyInput = (v: unknown) => v === undefined || v === null || (isObject(v) && Object.keys(v).length === 0);

/** The tool's input: its `rawInput`, or (Gemini sends none) what the agent shows of it. */
export function toolInput(call: ToolCallLike): unknown {
  if (!isEmptyInput(call.rawInput)) return call.rawInput;
  const shown: Json = {};
  if (call.title) shown.title = call.title;
  if (call.kind) shown.kind = call.kind;
  const text = contentText(call.content);
  if (text) shown.content = text;
  const paths = (call.locations ?? []).map((l) => l?.path).filter((p): p is string => typeof p === 'string');
  if (paths.length) shown.locations = paths;
  return shown;
}

interface CallState {
  call: ToolCallLike;
  announced: boolean;
  finished: boolean;
  raw: unknown;
  /** The `diff` content the agent showed for the call, by path: claude sends it only with the proposal. */
  diffs: Map<string, AcpDiff> | undefined;
}

/**
 * Turns one prompt turn's `session/update` notifications into Forge events. Keeps the state a turn
 * needs: the message being streamed (its deltas become one `message` when something else comes or
 * the turn ends) and each tool call (one `tool.call`, one `tool.result`, however often the agent
 * repeats itself).
 */
export class SessionUpdateMapper {
  private text = '';
  private textRaw: unknown[] = [];
  private readonly calls = new Map<string, CallState>();
  private readonly files: FileChangeLog;
  /** The whole assistant text of the turn (all messages), for the result. */
  lastMessage = '';

  /** `cwd`: the session's directory, which `file.changed` paths are made relative to. */
  constructor(options: { cwd?: string } = {}) {
    this.files = new FileChangeLog(options.cwd);
  }

  /** The files the turn's completed tool calls changed, each once with its last change. */
  filesChanged(): FileChange[] {
    return this.files.list();
  }

  map(notification: SessionNotificationParams, emit: Emit, raw: unknown = notification): void {
    const update = notification.update;
    const kind = update.sessionUpdate;
    if (kind === 'agent_message_chunk') {
      const content = update.content;
      if (isObject(content) && content.type === 'text' && typeof content.text === 'string') {
        // claude-code-acp opens a turn with an empty chunk: nothing to show.
        if (!content.text) return;
        this.text += content.text;
        this.textRaw.push(raw);
        const messageId = typeof update.messageId === 'string' ? update.messageId : undefined;
        emit(
          messageId
            ? { type: 'text.delta', text: content.text, messageId, raw }
            : { type: 'text.delta', text: content.text, raw },
        );
        return;
      }
      this.flushMessage(emit);
      emit({
        type: 'log',
        level: 'info',
        text: `agent sent ${String(isObject(content) ? content.type : 'non-text')} content`,
        raw,
      });
      return;
    }
    this.flushMessage(emit);
    switch (kind) {
      case 'agent_thought_chunk': {
        const text = contentText(update.content);
        if (text) emit({ type: 'reasoning', text, raw });
        return;
      }
      case 'tool_call':
      case 'tool_call_update':
        this.toolUpdate(update as unknown as ToolCallLike & { sessionUpdate: string }, emit, raw);
        return;
      case 'plan':
        // ACP sends the whole plan each time.
        emit({ type: 'plan.updated', entries: planEntries(update.entries), raw });
        return;
      case 'available_commands_update': {
        const cmds = Array.isArray(update.availableCommands) ? (update.availableCommands as Json[]) : [];
        emit({
          type: 'log',
          level: 'debug',
          text: `available commands: ${cmds.map((c) => `/${String(c.name)}`).join(' ')}`,
          raw,
        });
        return;
      }
      case 'current_mode_update':
        emit({ type: 'log', level: 'info', text: `mode: ${String(update.currentModeId)}`, raw });
        return;
      default:
        // user_message_chunk (history echo), usage_update, session_info_update, config_option_update,
        // and kinds newer than this adapter: kept, with the agent's message, never dropped.
        emit({ type: 'log', level: 'debug', text: `session/update ${kind}`, raw });
    }
  }

  /** A permission request names a tool call: announce it first if the agent has not (Gemini asks before it reports). */
  permissionCall(call: ToolCallLike, emit: Emit, raw: unknown): ToolCallLike {
    this.flushMessage(emit);
    const state = this.state(call, raw);
    this.announce(state, emit);
    // What the agent said of the call so far (claude names its tool only in the tool_call's _meta).
    return state.call;
  }

  /** The turn has ended: the message in flight becomes a `message`, and tool calls never reported still get their `tool.call`. */
  finish(emit: Emit): void {
    this.flushMessage(emit);
    for (const state of this.calls.values()) this.announce(state, emit);
  }

  private flushMessage(emit: Emit): void {
    if (!this.text) return;
    const raw = this.textRaw.length === 1 ? this.textRaw[0] : this.textRaw;
    emit({ type: 'message', text: this.text, raw });
    this.lastMessage = this.text;
    this.text = '';
    this.textRaw = [];
  }

  private state(call: ToolCallLike, raw: unknown): CallState {
    let state = this.calls.get(call.toolCallId);
    if (!state) {
      // A copy, as later updates fill it in; for-in rather than a spread: this runs for every tool update.
      const copy = {} as Json;
      for (const k in call) copy[k] = (call as unknown as Json)[k];
      state = { call: copy as unknown as ToolCallLike, announced: false, finished: false, raw, diffs: undefined };
      this.calls.set(call.toolCallId, state);
      this.noteDiffs(state, call.content);
      return state;
    }
    this.noteDiffs(state, call.content);
    // Later messages fill in what earlier ones left out (claude sends rawInput {} first, then the input).
    const target = state.call as unknown as Json;
    for (const k in call) {
      const v = (call as unknown as Json)[k];
      if (v === undefined || v === null) continue;
      if (k === 'rawInput' && isEmptyInput(v)) continue;
      target[k] = v;
    }
    if (!state.announced) state.raw = raw;
    return state;
  }

  /** Keeps the call's `diff` content by path; most updates carry none, so no map is made until one does. */
  private noteDiffs(state: CallState, content: unknown): void {
    if (!Array.isArray(content)) return;
    for (const c of content) {
      if (!isObject(c) || c.type !== 'diff') continue;
      for (const d of diffContent(content)) (state.diffs ??= new Map()).set(d.path, d);
      return;
    }
  }

  private announce(state: CallState, emit: Emit): void {
    if (state.announced) return;
    state.announced = true;
    emit({
      type: 'tool.call',
      callId: state.call.toolCallId,
      name: toolName(state.call),
      input: toolInput(state.call),
      raw: state.raw,
    });
  }

  private toolUpdate(update: ToolCallLike & { sessionUpdate: string }, emit: Emit, raw: unknown): void {
    if (typeof update.toolCallId !== 'string') {
      emit({ type: 'log', level: 'warn', text: `${update.sessionUpdate} without a toolCallId`, raw });
      return;
    }
    const state = this.state(update, raw);
    const status = update.status;
    // A call is announced once its input is known: claude's first tool_call carries `rawInput: {}`
    // and a placeholder title; the second the real input. Gemini sends no rawInput at all but
    // reports `in_progress` at once.
    if (!state.announced && (!isEmptyInput(update.rawInput) || (status && status !== 'pending'))) {
      this.announce(state, emit);
    }
    if (status === 'completed' || status === 'failed') {
      if (state.finished) return;
      this.announce(state, emit);
      state.finished = true;
      const output = update.rawOutput !== undefined ? update.rawOutput : contentText(update.content);
      emit({ type: 'tool.result', callId: update.toolCallId, output, isError: status === 'failed', raw });
      // A change is reported once it is made: a proposal the user rejected, or a call that failed, changed nothing.
      if (status === 'completed') {
        if (state.diffs)
          for (const d of state.diffs.values()) emit({ ...this.files.changed(d, update.toolCallId), raw });
      }
      // Announced and finished: its first message and diffs are not needed again, so a long turn does not hold them.
      state.raw = undefined;
      state.diffs = undefined;
      return;
    }
    if (update.sessionUpdate === 'tool_call_update' && !status && state.announced) {
      // Progress without a status (claude's `_meta.claudeCode.toolResponse`): kept as a debug log.
      emit({ type: 'log', level: 'debug', text: `tool_call_update ${update.toolCallId}`, raw });
    }
  }
}

/** Token counts of a `session/prompt` result: `usage` (ACP unstable), else Gemini's `_meta.quota.token_count`. */
export function promptUsage(response: unknown): Usage | undefined {
  if (!isObject(response)) return undefined;
  const u = response.usage;
  if (isObject(u) && typeof u.inputTokens === 'number') {
    const usage: Usage = {
      inputTokens: u.inputTokens,
      outputTokens: typeof u.outputTokens === 'number' ? u.outputTokens : 0,
      cacheReadTokens: typeof u.cachedReadTokens === 'number' ? u.cachedReadTokens : 0,
      cacheWriteTokens: typeof u.cachedWriteTokens === 'number' ? u.cachedWriteTokens : 0,
    };
    if (typeof u.thoughtTokens === 'number') usage.reasoningTokens = u.thoughtTokens;
    return usage;
  }
  const meta = response._meta;
  const quota = isObject(meta) && isObject(meta.quota) ? meta.quota : undefined;
  const count = quota && isObject(quota.token_count) ? quota.token_count : undefined;
  if (count && typeof count.input_tokens === 'number') {
    return {
      inputTokens: count.input_tokens,
      outputTokens: typeof count.output_tokens === 'number' ? count.output_tokens : 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
  }
  return undefined;
}
