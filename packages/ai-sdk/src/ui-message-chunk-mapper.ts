import type { AgentEvent, AgentEventOf, AgentResult } from '@forge/core';
import type { UIMessageChunk } from 'ai';
import type { ForgeDataParts, ForgeMessageMetadata } from './data-parts.js';

/** The chunks a Forge run becomes: the AI SDK's UI message chunks, with Forge's metadata and data parts. */
export type ForgeUIMessageChunk = UIMessageChunk<ForgeMessageMetadata, ForgeDataParts>;

export interface ChunkMapperOptions {
  /** Stream `reasoning` events as reasoning parts. Default true. */
  sendReasoning?: boolean;
  /** Send `{ forge: { runId, provider, sessionId, usage, … } }` as message metadata. Default true. */
  sendMetadata?: boolean;
  /** Send the `start` chunk (false when merging into a stream that already started a message). Default true. */
  sendStart?: boolean;
  /** Send the `finish` chunk (false when merging into a stream that goes on). Default true. */
  sendFinish?: boolean;
}

/** The text or reasoning part streaming now in one lane (the main agent, or one subagent). */
interface OpenPart {
  kind: 'text' | 'reasoning';
  id: string;
  messageId: string | undefined;
  text: string;
}

/** Written when a tool result names a call the stream never saw, so the AI SDK has a tool part to put it in. */
const UNKNOWN_TOOL = 'unknown';

type RequestKind = 'permission' | 'question';
type Pending<K extends RequestKind> = Extract<ForgeDataParts[K], { status: 'pending' }>;
/** What a request asks, beside its id and where it nests. */
type Asked<K extends RequestKind> = Omit<Pending<K>, 'id' | 'status' | 'parentToolCallId'>;
/** What a request's resolution adds to it. */
type Resolution<K extends RequestKind> = Omit<Extract<ForgeDataParts[K], { status: 'resolved' }>, keyof Pending<K>>;

/**
 * One kind of request's data parts (permissions or questions), by request id: put pending when asked, and again,
 * in place, when resolved. An answer is not content: it leaves open text and reasoning parts open.
 */
class RequestParts<K extends RequestKind> {
  readonly #parts = new Map<string, ForgeDataParts[K]>();

  constructor(private readonly kind: K) {}

  get(id: string): ForgeDataParts[K] | undefined {
    return this.#parts.get(id);
  }

  ask(out: ForgeUIMessageChunk[], event: { id: string; parentToolCallId?: string }, asked: Asked<K>): void {
    this.#put(out, { id: event.id, ...asked, status: 'pending', ...parent(event.parentToolCallId) });
  }

  /** `unseen`: what the request asked when this stream never saw it asked. */
  resolve(out: ForgeUIMessageChunk[], id: string, unseen: Asked<K>, resolution: Resolution<K>): void {
    const { status: _, ...asked } = this.#parts.get(id) ?? ({ id, ...unseen, status: 'pending' } as Pending<K>);
    this.#put(out, { ...asked, status: 'resolved', ...resolution });
  }

  #put(out: ForgeUIMessageChunk[], part: object): void {
    const data = part as ForgeDataParts[K];
    this.#parts.set(data.id, data);
    out.push({ type: `data-${this.kind}`, id: data.id, data } as ForgeUIMessageChunk);
  }
}

/**
 * Turns a run's events, in order, into UI message chunks. Text and reasoning become parts with start/delta/end;
 * a part stays open while events of the same message keep coming in its lane and ends at anything else there.
 * Lanes are keyed by `parentToolCallId`, so a subagent's text interleaving with the main agent's stays two parts.
 */
export class UIMessageChunkMapper {
  private readonly sendReasoning: boolean;
  private readonly sendMetadata: boolean;
  private readonly sendStart: boolean;
  private readonly sendFinish: boolean;
  private readonly open = new Map<string, OpenPart>();
  /** Text already streamed per message, so a `message` that repeats it after its part closed adds nothing. */
  private readonly streamed = new Map<string, string>();
  private readonly tools = new Set<string>();
  private readonly permissions = new RequestParts('permission');
  private readonly questions = new RequestParts('question');
  private readonly metadata: ForgeMessageMetadata['forge'];
  private parts = 0;
  private ended = false;

  constructor(run: { id: string; provider: string }, options: ChunkMapperOptions = {}) {
    this.sendReasoning = options.sendReasoning ?? true;
    this.sendMetadata = options.sendMetadata ?? true;
    this.sendStart = options.sendStart ?? true;
    this.sendFinish = options.sendFinish ?? true;
    this.metadata = { runId: run.id, provider: run.provider };
  }

  /** The chunks that open the message. */
  start(): ForgeUIMessageChunk[] {
    const out: ForgeUIMessageChunk[] = [];
    if (this.sendStart)
      out.push(this.sendMetadata ? { type: 'start', messageMetadata: this.snapshot() } : { type: 'start' });
    out.push({ type: 'start-step' });
    return out;
  }

  /** The chunks one event becomes (often none). */
  map(event: AgentEvent): ForgeUIMessageChunk[] {
    if (this.ended) return [];
    const out: ForgeUIMessageChunk[] = [];
    const lane = event.parentToolCallId ?? '';
    switch (event.type) {
      case 'session.started':
        this.metadata.sessionId = event.sessionId;
        if (event.model !== undefined) this.metadata.model = event.model;
        if (this.sendMetadata) out.push({ type: 'message-metadata', messageMetadata: this.snapshot() });
        break;
      case 'text.delta':
        this.delta(out, 'text', lane, event.messageId, event.text, event.parentToolCallId);
        break;
      case 'reasoning':
        if (this.sendReasoning) this.delta(out, 'reasoning', lane, event.messageId, event.text, event.parentToolCallId);
        break;
      case 'message':
        this.message(out, lane, event);
        break;
      case 'tool.call':
        this.close(out, lane);
        this.tools.add(event.callId);
        out.push({
          type: 'tool-input-available',
          toolCallId: event.callId,
          toolName: event.name,
          input: event.input,
          dynamic: true,
          ...forgeMetadata(event.parentToolCallId),
        });
        break;
      case 'tool.result':
        this.close(out, lane);
        this.toolResult(out, event);
        break;
      case 'permission.requested':
        this.close(out, lane);
        this.permissions.ask(out, event, { tool: event.tool, input: event.input });
        break;
      case 'permission.resolved':
        this.permissions.resolve(
          out,
          event.id,
          { tool: UNKNOWN_TOOL, input: undefined },
          { decision: event.decision, by: event.by },
        );
        break;
      case 'question.requested':
        this.close(out, lane);
        this.questions.ask(out, event, { questions: event.questions });
        break;
      case 'question.resolved':
        this.questions.resolve(out, event.id, { questions: [] }, { by: event.by });
        break;
      case 'file.changed':
        this.dataPart(out, event, 'file-change', {
          path: event.path,
          change: event.change,
          ...(event.diff !== undefined ? { diff: event.diff } : {}),
          ...(event.oldPath !== undefined ? { oldPath: event.oldPath } : {}),
          ...(event.toolCallId !== undefined ? { toolCallId: event.toolCallId } : {}),
        });
        break;
      case 'plan.updated':
        // One id per lane: the AI SDK replaces a data part with the same type and id, so the plan updates in place.
        this.dataPart(out, event, 'plan', { entries: event.entries }, lane ? `plan:${lane}` : 'plan');
        break;
      case 'error':
        this.dataPart(out, event, 'error', { code: event.code, message: event.message, retryable: event.retryable });
        break;
      case 'run.completed':
        this.end(out, event.result);
        break;
      case 'usage':
      case 'log':
        break;
    }
    return out;
  }

  private delta(
    out: ForgeUIMessageChunk[],
    kind: OpenPart['kind'],
    lane: string,
    messageId: string | undefined,
    text: string,
    parentToolCallId: string | undefined,
  ): void {
    let part = this.open.get(lane);
    if (!part || part.kind !== kind || part.messageId !== messageId) {
      this.close(out, lane);
      part = { kind, id: `${kind}-${++this.parts}`, messageId, text: '' };
      this.open.set(lane, part);
      out.push({ type: `${kind}-start`, id: part.id, ...forgeMetadata(parentToolCallId) });
    }
    if (!text) return;
    part.text += text;
    if (kind === 'text')
      this.streamed.set(streamKey(lane, messageId), (this.streamed.get(streamKey(lane, messageId)) ?? '') + text);
    out.push({ type: `${kind}-delta`, id: part.id, delta: text });
  }

  private message(out: ForgeUIMessageChunk[], lane: string, event: AgentEventOf<'message'>): void {
    const part = this.open.get(lane);
    if (part?.kind === 'text' && (part.messageId === event.messageId || event.messageId === undefined)) {
      // The whole message after its deltas: send what the deltas missed, if anything, and end the part.
      if (event.text.startsWith(part.text) && event.text.length > part.text.length)
        out.push({ type: 'text-delta', id: part.id, delta: event.text.slice(part.text.length) });
      this.close(out, lane);
      return;
    }
    this.close(out, lane);
    if (!event.text || this.streamed.get(streamKey(lane, event.messageId))?.includes(event.text)) return;
    const id = `text-${++this.parts}`;
    out.push(
      { type: 'text-start', id, ...forgeMetadata(event.parentToolCallId) },
      { type: 'text-delta', id, delta: event.text },
      { type: 'text-end', id },
    );
  }

  private toolResult(out: ForgeUIMessageChunk[], event: AgentEventOf<'tool.result'>): void {
    if (!this.tools.has(event.callId)) {
      // The AI SDK refuses an output for a call it has not seen; a provider may report the result alone.
      this.tools.add(event.callId);
      out.push({
        type: 'tool-input-available',
        toolCallId: event.callId,
        toolName: this.permissions.get(event.callId)?.tool ?? UNKNOWN_TOOL,
        input: this.permissions.get(event.callId)?.input,
        dynamic: true,
        ...forgeMetadata(event.parentToolCallId),
      });
    }
    out.push(
      event.isError
        ? { type: 'tool-output-error', toolCallId: event.callId, errorText: errorText(event.output), dynamic: true }
        : { type: 'tool-output-available', toolCallId: event.callId, output: event.output, dynamic: true },
    );
  }

  /**
   * A data part that is content of its own (a file change, the plan, an error): it ends the open text or reasoning
   * part of its event's lane and nests where the event does.
   */
  private dataPart<K extends 'file-change' | 'plan' | 'error'>(
    out: ForgeUIMessageChunk[],
    event: { parentToolCallId?: string },
    kind: K,
    data: Omit<ForgeDataParts[K], 'parentToolCallId'>,
    id?: string,
  ): void {
    this.close(out, event.parentToolCallId ?? '');
    const chunk: { type: string; id?: string; data: object } = {
      type: `data-${kind}`,
      ...(id === undefined ? {} : { id }),
      data: { ...data, ...parent(event.parentToolCallId) },
    };
    out.push(chunk as ForgeUIMessageChunk);
  }

  private end(out: ForgeUIMessageChunk[], result: AgentResult): void {
    this.ended = true;
    for (const lane of [...this.open.keys()]) this.close(out, lane);
    Object.assign(this.metadata, {
      status: result.status,
      usage: result.usage,
      durationMs: result.durationMs,
      ...(result.sessionId !== undefined ? { sessionId: result.sessionId } : {}),
      ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
      ...(result.output !== undefined ? { output: result.output } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    });
    if (this.sendMetadata) out.push({ type: 'message-metadata', messageMetadata: this.snapshot() });
    out.push({ type: 'finish-step' });
    if (result.status === 'cancelled') {
      // What the AI SDK's own streams send when the user stops a response.
      out.push({ type: 'abort' });
      return;
    }
    if (result.status !== 'completed') {
      const error = result.error ?? { code: 'PROVIDER_ERROR', message: 'The run failed' };
      out.push({ type: 'error', errorText: `${error.code}: ${error.message}` });
    }
    if (this.sendFinish) out.push({ type: 'finish', finishReason: result.status === 'completed' ? 'stop' : 'error' });
  }

  private close(out: ForgeUIMessageChunk[], lane: string): void {
    const part = this.open.get(lane);
    if (!part) return;
    this.open.delete(lane);
    out.push({ type: `${part.kind}-end`, id: part.id });
  }

  private snapshot(): ForgeMessageMetadata {
    return { forge: { ...this.metadata } };
  }
}

const streamKey = (lane: string, messageId: string | undefined) => `${lane}\u0000${messageId ?? ''}`;

const parent = (parentToolCallId: string | undefined) => (parentToolCallId === undefined ? {} : { parentToolCallId });

/** Where the AI SDK keeps a part's provider details: `providerMetadata.forge.parentToolCallId` for subagent work. */
const forgeMetadata = (parentToolCallId: string | undefined) =>
  parentToolCallId === undefined ? {} : { providerMetadata: { forge: { parentToolCallId } } };

function errorText(output: unknown): string {
  if (typeof output === 'string') return output;
  try {
    return JSON.stringify(output) ?? String(output);
  } catch {
    return String(output);
  }
}
