import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { AgentEvent } from '@forge/core';
import { eventFromProto, eventToProto } from './convert-event.js';
import { AgentEventSchema, EventBatchSchema } from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonText, toJsonText } from './json-text.js';
import { ProtoReader, ProtoWriter, WireType, asBuffer, lenFieldSize, tagOf, varintSize } from './proto-wire.js';

/**
 * forge.agent.v1.AgentEvent straight to and from its protobuf bytes, for the hot path of a run's
 * stream. Text events (text.delta, message, reasoning) — nearly all of a real stream — are coded
 * by hand, several times faster than the reflective codec; every other type goes through the
 * generated schema. The bytes are the standard encoding (see event-codec.test.ts), so any
 * protobuf implementation reads them.
 */

// Field numbers of agent.proto.
const F_RUN_ID = 1;
const F_SEQ = 2;
const F_TIME = 3;
const F_PROVIDER = 4;
const F_RAW = 5;
const F_PARENT = 6;
const TEXT_BODIES = { 'text.delta': 11, message: 12, reasoning: 13 } as const;
const TEXT_TYPES: Record<number, 'text.delta' | 'message' | 'reasoning'> = {
  11: 'text.delta',
  12: 'message',
  13: 'reasoning',
};
const { VARINT, I64, LEN } = WireType;
// Fields of the text bodies (TextDelta, Message, Reasoning) and of EventBatch.
const F_TEXT = 1;
const F_MESSAGE_ID = 2;
const TEXT_TAG = tagOf(F_TEXT, LEN);
const MESSAGE_ID_TAG = tagOf(F_MESSAGE_ID, LEN);
const F_BATCH_EVENTS = 1;
const BATCH_EVENT_TAG = tagOf(F_BATCH_EVENTS, LEN);

export function encodeEvent(event: AgentEvent): Uint8Array {
  const bodyField = (TEXT_BODIES as Record<string, number | undefined>)[event.type];
  if (bodyField === undefined || event.seq > 0xffffffff || event.seq < 0) {
    return toBinary(AgentEventSchema, eventToProto(event));
  }
  const e = event as AgentEvent & { type: 'text.delta' | 'message' | 'reasoning' };
  const raw = toJsonText(e.raw);
  const runIdBytes = Buffer.byteLength(e.runId);
  const providerBytes = Buffer.byteLength(e.provider);
  const textBytes = Buffer.byteLength(e.text);
  const rawBytes = raw === undefined ? 0 : Buffer.byteLength(raw);
  const messageIdBytes = e.messageId === undefined ? 0 : Buffer.byteLength(e.messageId);
  const parent = e.parentToolCallId;
  const parentBytes = parent === undefined ? 0 : Buffer.byteLength(parent);
  const bodySize =
    (textBytes ? lenFieldSize(textBytes) : 0) + (e.messageId === undefined ? 0 : lenFieldSize(messageIdBytes));
  const size =
    (runIdBytes ? lenFieldSize(runIdBytes) : 0) +
    (e.seq ? 1 + varintSize(e.seq) : 0) +
    (e.time ? 9 : 0) +
    (providerBytes ? lenFieldSize(providerBytes) : 0) +
    (raw === undefined ? 0 : lenFieldSize(rawBytes)) +
    (parent === undefined ? 0 : lenFieldSize(parentBytes)) +
    1 +
    varintSize(bodySize) +
    bodySize;
  const w = ProtoWriter.alloc(size);
  if (runIdBytes) w.string(F_RUN_ID, e.runId, runIdBytes);
  if (e.seq) {
    w.tag(F_SEQ, VARINT);
    w.varint(e.seq);
  }
  if (e.time) w.double(F_TIME, e.time);
  if (providerBytes) w.string(F_PROVIDER, e.provider, providerBytes);
  if (raw !== undefined) w.string(F_RAW, raw, rawBytes);
  if (parent !== undefined) w.string(F_PARENT, parent, parentBytes);
  w.tag(bodyField, LEN);
  w.varint(bodySize);
  if (textBytes) w.string(F_TEXT, e.text, textBytes);
  if (e.messageId !== undefined) w.string(F_MESSAGE_ID, e.messageId, messageIdBytes);
  return w.buf;
}

/** Null when the bytes are not a plain text event this codec reads by hand. */
function decodeTextEvent(buf: Buffer, start: number, end: number): AgentEvent | null {
  const r = new ProtoReader(buf, start, end);
  let runId = '';
  let seq = 0;
  let time = 0;
  let provider = '';
  let raw: string | undefined;
  let parent: string | undefined;
  let type: 'text.delta' | 'message' | 'reasoning' | undefined;
  let text = '';
  let messageId: string | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === F_RUN_ID && wire === LEN) runId = r.string();
    else if (field === F_SEQ && wire === VARINT) seq = r.varint();
    else if (field === F_TIME && wire === I64) time = r.double();
    else if (field === F_PROVIDER && wire === LEN) provider = r.string();
    else if (field === F_RAW && wire === LEN) raw = r.string();
    else if (field === F_PARENT && wire === LEN) parent = r.string();
    else if (TEXT_TYPES[field] && wire === LEN) {
      // A later body field replaces an earlier one (oneof semantics), so start afresh.
      type = TEXT_TYPES[field];
      text = '';
      messageId = undefined;
      const len = r.length();
      const body = new ProtoReader(buf, r.pos, r.pos + len);
      while (body.pos < body.end) {
        const t = body.varint();
        if (t === TEXT_TAG) text = body.string();
        else if (t === MESSAGE_ID_TAG) messageId = body.string();
        else return null;
      }
      r.pos += len;
    } else return null;
  }
  if (!type) return null;
  const event = { runId, seq, time, provider, type, text } as AgentEvent & { messageId?: string };
  if (messageId !== undefined) event.messageId = messageId;
  if (raw !== undefined) {
    const value = fromJsonText(raw);
    if (value !== undefined) event.raw = value;
  }
  if (parent !== undefined) event.parentToolCallId = parent;
  return event;
}

function decodeEventAt(buf: Buffer, start: number, end: number): AgentEvent {
  let fast: AgentEvent | null = null;
  try {
    fast = decodeTextEvent(buf, start, end);
  } catch {
    fast = null;
  }
  return fast ?? eventFromProto(fromBinary(AgentEventSchema, buf.subarray(start, end)));
}

export function decodeEvent(bytes: Uint8Array): AgentEvent {
  return decodeEventAt(asBuffer(bytes), 0, bytes.byteLength);
}

/** forge.agent.v1.EventBatch from encoded events, in one allocation. */
export function encodeBatch(events: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const e of events) size += lenFieldSize(e.byteLength);
  const w = ProtoWriter.alloc(size);
  for (const e of events) w.bytes(F_BATCH_EVENTS, e);
  return w.buf;
}

/**
 * The events of an encoded forge.agent.v1.EventBatch, in order. Throws on a truncated batch; a batch
 * with other fields is read the generated way.
 */
export function decodeBatch(bytes: Uint8Array): AgentEvent[] {
  const r = ProtoReader.of(bytes);
  const events: AgentEvent[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === BATCH_EVENT_TAG) {
      const len = r.length();
      events.push(decodeEventAt(r.buf, r.pos, r.pos + len));
      r.pos += len;
    } else {
      // Not an event field: read the whole batch the generated way, which skips what it must.
      return fromBinary(EventBatchSchema, bytes).events.map(eventFromProto);
    }
  }
  return events;
}
