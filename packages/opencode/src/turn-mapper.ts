import type { AgentEventInit, Usage } from '@forge/core';
import {
  EVENT_PROPERTIES,
  FAST_CHECKS,
  isMappedEventType,
  type ErrorInfo,
  type EventProperties,
  type MappedEventType,
  type MessageInfo,
  type Part,
  type SessionMessage,
} from './schemas.js';
import { errorCode, errorMessage, errorRetryable } from './error-info.js';
import { planEntries, type FileChangeLog } from './file-changes.js';
import {
  decodeDeltaFrame,
  deltaFrameHead,
  isSkippableFrame,
  peekStatus,
  peekInProgressMessageId,
  peekRunningToolCallId,
  peekType,
  sessionOf,
} from './frame-peek.js';

export type Emit = (event: AgentEventInit) => void;

/** What a frame told the run beyond the events it produced. */
export type FrameSignal = 'idle' | undefined;

interface TextState {
  kind: 'text' | 'reasoning';
  /** The text already sent as deltas, so a whole part sent again yields only what is new. */
  sent: string;
  final: boolean;
  messageId: string;
  /**
   * The stream was away while this part grew. OpenCode keeps streamed text out of the stored
   * part until it ends, so the missing middle is unknown: the part's further deltas are dropped
   * and its final text supplies, as one delta, everything after what was already sent.
   */
  gapped: boolean;
}

interface ToolState {
  called: boolean;
  resulted: boolean;
}

export interface TurnMapperOptions {
  /** Where `file.changed` events are recorded (shared with the turn's subagent sessions). */
  files?: FileChangeLog;
  /** A `task` tool call started a child session (a subagent): its events belong under that call. */
  onChild?(childSessionId: string, callId: string): void;
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * Maps the OpenCode events of one session and one turn to Forge events. Idempotent: the same
 * part or message seen twice (the stream and a reconciling `GET /session/:id/message`, or the
 * server sending the whole part again) never yields an event twice.
 */
export class TurnMapper {
  readonly sessionId: string;
  /** Set once the server shows work for this turn (busy status or an assistant message). */
  turnStarted = false;
  /** Set while the run aborts the session itself, so the echoing MessageAbortedError is not news. */
  aborting = false;
  sessionError: ErrorInfo | undefined;
  costUsd = 0;

  private readonly ignored: ReadonlySet<string>;
  private readonly roles = new Map<string, string>();
  private readonly texts = new Map<string, TextState>();
  private readonly tools = new Map<string, ToolState>();
  private readonly assistant = new Map<string, MessageInfo>();
  private readonly usageDone = new Set<string>();
  private readonly asked = new Set<string>();
  /** Questions asked and not yet replied to or rejected: a cancel rejects them on the server. */
  readonly openQuestions = new Set<string>();
  private readonly emit: Emit;
  private sawGap = false;
  private readonly deltaHead: string;
  private readonly options: TurnMapperOptions;
  /** `task` calls whose child session is not known yet: their running updates must be read. */
  private readonly awaitingChild = new Set<string>();
  private readonly children = new Set<string>();
  private lastPlan: string | undefined;

  /** `ignoredMessages`: ids of messages that existed before this turn (a continued session). */
  constructor(sessionId: string, emit: Emit, ignoredMessages: Iterable<string> = [], options: TurnMapperOptions = {}) {
    this.sessionId = sessionId;
    this.emit = emit;
    this.ignored = new Set(ignoredMessages);
    this.deltaHead = deltaFrameHead(sessionId);
    this.options = options;
  }

  get turns(): number {
    return this.assistant.size;
  }

  /** The last assistant message of the turn, as last seen. */
  get lastAssistant(): MessageInfo | undefined {
    let last: MessageInfo | undefined;
    for (const info of this.assistant.values()) if (!last || info.id >= last.id) last = info;
    return last;
  }

  /** One `data:` payload of `GET /event`. Never throws: bad data becomes an `error` event. */
  handleFrame(data: string): FrameSignal {
    // The stream carries every session of the instance; a substring test is far cheaper than
    // JSON.parse + zod, and a frame that does not name our session cannot be about it.
    if (!data.includes(this.sessionId)) {
      // Still catch what is plainly broken (a truncated frame) without parsing it.
      if (data.charCodeAt(0) !== OPEN_BRACE || data.charCodeAt(data.length - 1) !== CLOSE_BRACE)
        this.badFrame(data, 'not a JSON object');
      return undefined;
    }
    const peeked = peekType(data);
    if (peeked !== undefined) {
      if (isSkippableFrame(peeked, data) || this.nothingNew(peeked, data)) return undefined;
      if (peeked === 'message.part.delta' && this.fastDelta(data)) return undefined;
      if (peeked === 'session.status' && this.fastStatus(data)) return undefined;
    }
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch (error) {
      this.badFrame(data, (error as Error).message);
      return undefined;
    }
    if (typeof event !== 'object' || event === null) {
      this.badFrame(data, 'not a JSON object');
      return undefined;
    }
    const { type, properties } = event as { type?: unknown; properties?: unknown };
    if (typeof type !== 'string') {
      this.badFrame(data, 'no event type');
      return undefined;
    }
    if (!isMappedEventType(type)) return undefined;
    if (sessionOf(properties) !== this.sessionId) return undefined;
    if (FAST_CHECKS[type]?.(properties)) return this.dispatch(type, properties, event);
    const parsed = EVENT_PROPERTIES[type].safeParse(properties);
    if (!parsed.success) {
      this.emit({
        type: 'error',
        code: 'OPENCODE_BAD_EVENT',
        message: `OpenCode event ${type} did not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
        retryable: false,
        details: { eventType: type },
        raw: event,
      });
      return undefined;
    }
    return this.dispatch(type, parsed.data, event);
  }

  /**
   * Repeats of what the turn already holds, found without parsing: an in-progress update of an
   * assistant message already seen (usage is read at completion), or of a tool already called.
   */
  private nothingNew(type: string, data: string): boolean {
    if (type === 'message.updated') {
      const id = peekInProgressMessageId(data);
      return id !== undefined && this.assistant.has(id);
    }
    if (type === 'message.part.updated') {
      const callId = peekRunningToolCallId(data);
      return callId !== undefined && this.tools.get(callId)?.called === true && !this.awaitingChild.has(callId);
    }
    return false;
  }

  /** A delta frame in the server's usual layout, handled without JSON.parse. False = not handled. */
  private fastDelta(data: string): boolean {
    const delta = decodeDeltaFrame(data, this.deltaHead, this.sessionId);
    if (delta === undefined) return false;
    this.onDelta(delta);
    return true;
  }

  /** `busy` and `idle` statuses need no parse; `retry` (with its message) does. */
  private fastStatus(data: string): boolean {
    const status = peekStatus(data, this.sessionId);
    if (status === undefined) return false;
    if (status === 'busy') this.turnStarted = true;
    return true;
  }

  /** The event stream dropped: text parts still open may miss deltas from here on. */
  markGap(): void {
    this.sawGap = true;
    for (const state of this.texts.values()) if (!state.final) state.gapped = true;
  }

  /** Brings the turn up to date from `GET /session/:id/message` (after a reconnect or at the end). */
  applyMessages(messages: readonly SessionMessage[]): void {
    for (const { info, parts } of messages) {
      if (info.sessionID !== this.sessionId || this.ignored.has(info.id)) continue;
      this.roles.set(info.id, info.role);
      for (const part of parts) this.onPart(part, part, false);
      this.onMessage(info, info);
    }
  }

  /** Closes what the stream left open: a text part never marked ended still becomes a `message`. */
  finish(): void {
    for (const [, state] of this.texts) {
      if (state.final || state.kind !== 'text' || !state.sent) continue;
      state.final = true;
      this.emit({ type: 'message', text: state.sent, messageId: state.messageId });
    }
  }

  /** The server's verdict on the turn: its session error, else the last assistant message's error. */
  failure(): ErrorInfo | undefined {
    if (this.sessionError) return this.sessionError;
    return this.lastAssistant?.error;
  }

  private dispatch(type: MappedEventType, props: unknown, raw: unknown): FrameSignal {
    switch (type) {
      case 'message.part.delta':
        this.onDelta(props as EventProperties<'message.part.delta'>);
        return undefined;
      case 'message.part.updated':
        this.onPart((props as EventProperties<'message.part.updated'>).part, raw);
        return undefined;
      case 'message.updated': {
        const { info } = props as EventProperties<'message.updated'>;
        if (this.ignored.has(info.id)) return undefined;
        this.roles.set(info.id, info.role);
        this.onMessage(info, raw);
        return undefined;
      }
      case 'session.status': {
        const { status } = props as EventProperties<'session.status'>;
        if (status.type === 'busy') this.turnStarted = true;
        else if (status.type === 'retry') {
          this.turnStarted = true;
          this.emit({
            type: 'log',
            level: 'warn',
            text: `OpenCode retries the model request (attempt ${status.attempt ?? '?'}): ${status.message ?? 'no message'}`,
            raw,
          });
        }
        return undefined;
      }
      case 'session.idle':
        // An idle left over from an earlier turn of a continued session is not ours.
        return this.turnStarted ? 'idle' : undefined;
      case 'session.error': {
        const { error } = props as EventProperties<'session.error'>;
        const info: ErrorInfo = error ?? { name: 'UnknownError' };
        if (this.aborting && info.name === 'MessageAbortedError') return undefined;
        this.sessionError = info;
        this.emit({
          type: 'error',
          code: errorCode(info),
          message: errorMessage(info),
          retryable: errorRetryable(info),
          details: { name: info.name, ...(info.data ? { data: info.data } : {}) },
          raw,
        });
        return undefined;
      }
      case 'permission.asked': {
        const p = props as EventProperties<'permission.asked'>;
        if (this.asked.has(p.id)) return undefined;
        this.asked.add(p.id);
        this.emit({
          type: 'permission.requested',
          id: p.id,
          tool: p.permission,
          input: p.metadata ?? { patterns: p.patterns ?? [] },
          raw,
        });
        return undefined;
      }
      case 'permission.replied':
        return undefined;
      case 'question.asked': {
        const q = props as EventProperties<'question.asked'>;
        if (this.asked.has(q.id)) return undefined;
        this.asked.add(q.id);
        this.openQuestions.add(q.id);
        this.emit({
          type: 'question.requested',
          id: q.id,
          questions: q.questions.map((item) => ({
            question: item.question,
            ...(item.header !== undefined ? { header: item.header } : {}),
            options: item.options.map((o) => ({
              label: o.label,
              ...(o.description !== undefined ? { description: o.description } : {}),
            })),
            multiple: item.multiple ?? false,
            // The question tool adds "type your own answer" unless the model sets custom: false.
            custom: item.custom ?? true,
          })),
          raw,
        });
        return undefined;
      }
      case 'todo.updated': {
        const entries = planEntries((props as EventProperties<'todo.updated'>).todos);
        // The server repeats the list (the tool's updates, reconnects); the plan is news only when it changed.
        const key = JSON.stringify(entries);
        if (key !== this.lastPlan) {
          this.lastPlan = key;
          this.emit({ type: 'plan.updated', entries, raw });
        }
        return undefined;
      }
      case 'session.diff':
        for (const event of this.options.files?.fromSessionDiff((props as EventProperties<'session.diff'>).diff) ?? [])
          this.emit({ ...event, raw });
        return undefined;
      case 'question.replied':
      case 'question.rejected':
        this.openQuestions.delete((props as EventProperties<'question.replied'>).requestID);
        return undefined;
    }
  }

  private isUserMessage(messageId: string, part?: Part): boolean {
    if (this.ignored.has(messageId)) return true;
    const role = this.roles.get(messageId);
    if (role !== undefined) return role !== 'assistant';
    // Role not seen (the stream dropped at that moment): the user's own text parts carry no time.
    return part !== undefined && part.time === undefined && part.type === 'text';
  }

  /** Deltas carry no `raw`: the hot path never parses their frame (see fastDelta). */
  private onDelta(p: EventProperties<'message.part.delta'>): void {
    if (p.field !== 'text' || !p.delta || this.isUserMessage(p.messageID)) return;
    let state = this.texts.get(p.partID);
    if (!state) {
      // Without a gap a part is announced before its first delta; after one, it may have begun unseen.
      state = { kind: 'text', sent: '', final: false, messageId: p.partID, gapped: this.sawGap };
      this.texts.set(p.partID, state);
    }
    if (state.final || state.gapped) return;
    state.sent += p.delta;
    this.emit(
      state.kind === 'text'
        ? { type: 'text.delta', text: p.delta, messageId: p.partID }
        : { type: 'reasoning', text: p.delta, messageId: p.partID },
    );
  }

  private onPart(part: Part, raw: unknown, fromStream = true): void {
    if (part.sessionID !== this.sessionId || this.isUserMessage(part.messageID, part)) return;
    if (part.type === 'text' || part.type === 'reasoning') this.onTextPart(part, raw, fromStream);
    else if (part.type === 'tool') this.onToolPart(part, raw);
  }

  private onTextPart(part: Part, raw: unknown, fromStream: boolean): void {
    if ((part as { synthetic?: unknown }).synthetic === true) return;
    const kind = part.type === 'reasoning' ? 'reasoning' : 'text';
    const ended = part.time?.end !== undefined;
    let state = this.texts.get(part.id);
    if (!state) {
      // A part first met in stored messages may already have streamed deltas nobody here saw.
      state = { kind, sent: '', final: false, messageId: part.id, gapped: !fromStream };
      this.texts.set(part.id, state);
    }
    state.kind = kind;
    if (state.final) return;
    if (state.gapped) {
      // Snapshots of an open part lag its deltas (OpenCode stores the text when the part ends).
      if (!ended) return;
      state.gapped = false;
    }
    const full = part.text ?? '';
    if (full.length > state.sent.length && full.startsWith(state.sent)) {
      const delta = full.slice(state.sent.length);
      state.sent = full;
      this.emit(
        kind === 'text'
          ? { type: 'text.delta', text: delta, messageId: part.id, raw }
          : { type: 'reasoning', text: delta, messageId: part.id, raw },
      );
    } else if (!full.startsWith(state.sent) && !state.sent.startsWith(full)) {
      // The server rewrote the part; no delta can express that, the final `message` carries it.
      // (A snapshot that is merely behind the deltas already sent changes nothing.)
      state.sent = full;
    }
    if (ended) {
      state.final = true;
      if (kind === 'text' && full) this.emit({ type: 'message', text: full, messageId: part.id, raw });
    }
  }

  private onToolPart(part: Part, raw: unknown): void {
    const state = part.state;
    const callId = part.callID ?? part.id;
    if (!state) return;
    let t = this.tools.get(callId);
    if (!t) {
      t = { called: false, resulted: false };
      this.tools.set(callId, t);
    }
    const name = part.tool ?? 'unknown';
    const done = state.status === 'completed' || state.status === 'error';
    // A pending part has `input: {}` until the model's arguments are parsed; wait for them.
    if (!t.called && (done || state.status === 'running' || !isEmptyObject(state.input))) {
      t.called = true;
      this.emit({ type: 'tool.call', callId, name, input: state.input ?? {}, raw });
    }
    if (part.tool === 'task') this.noteChild(part, callId);
    if (done && !t.resulted) {
      t.resulted = true;
      const isError = state.status === 'error';
      this.emit({ type: 'tool.result', callId, output: isError ? state.error : state.output, isError, raw });
      // Emitted once the edit is made (the tool completed), never when it is only proposed.
      for (const changed of this.options.files?.fromToolPart(part) ?? []) this.emit({ ...changed, raw });
    }
  }

  /** The `task` tool names its child session in `metadata.sessionId` once the subagent runs. */
  private noteChild(part: Part, callId: string): void {
    const meta = part.state?.metadata as { sessionId?: unknown } | undefined;
    const child = typeof meta?.sessionId === 'string' ? meta.sessionId : undefined;
    if (child === undefined) {
      if (part.state?.status === 'pending' || part.state?.status === 'running') this.awaitingChild.add(callId);
      return;
    }
    this.awaitingChild.delete(callId);
    if (this.children.has(child)) return;
    this.children.add(child);
    this.options.onChild?.(child, callId);
  }

  private onMessage(info: MessageInfo, raw: unknown): void {
    if (info.role !== 'assistant' || info.sessionID !== this.sessionId) return;
    this.turnStarted = true;
    this.assistant.set(info.id, info);
    const cwd = (info as { path?: { cwd?: unknown } }).path?.cwd;
    if (this.options.files && this.options.files.cwd === undefined && typeof cwd === 'string')
      this.options.files.cwd = cwd;
    if (info.time?.completed === undefined || this.usageDone.has(info.id)) return;
    this.usageDone.add(info.id);
    const usage = toUsage(info);
    if (info.cost !== undefined) this.costUsd += info.cost;
    if (usage)
      this.emit({
        type: 'usage',
        usage,
        ...(info.cost !== undefined ? { costUsd: info.cost } : {}),
        messageId: info.id,
        raw,
      });
  }

  private badFrame(data: string, reason: string): void {
    this.emit({
      type: 'error',
      code: 'OPENCODE_BAD_EVENT',
      message: `OpenCode sent an event that could not be read (${reason}): ${data.slice(0, 200)}`,
      retryable: false,
      raw: data,
    });
  }
}

function isEmptyObject(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function toUsage(info: MessageInfo): Usage | undefined {
  const t = info.tokens;
  if (!t) return undefined;
  const usage: Usage = {
    inputTokens: t.input,
    outputTokens: t.output,
    cacheReadTokens: t.cache?.read ?? 0,
    cacheWriteTokens: t.cache?.write ?? 0,
  };
  if (t.reasoning) usage.reasoningTokens = t.reasoning;
  return usage;
}
