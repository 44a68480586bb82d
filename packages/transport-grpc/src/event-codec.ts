import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { AgentEvent } from '@forge/core';
import { eventFromProto, eventToProto } from './convert-event.js';
import { AgentEventSchema, EventBatchSchema } from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonText, toJsonText } from './json-text.js';

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
const TEXT_BODIES = { 'text.delta': 11, message: 12, reasoning: 13 } as const;
const TEXT_TYPES: Record<number, 'text.delta' | 'message' | 'reasoning'> = {
  11: 'text.delta',
  12: 'message',
  13: 'reasoning',
};
const LEN = 2; // wire type: length-delimited
const VARINT = 0;
const I64 = 1;

const varintSize = (v: number) => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
const strField = (bytes: number) => 1 + varintSize(bytes) + bytes;

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(v: number): void {
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  str(field: number, s: string, bytes: number): void {
    this.buf[this.pos++] = (field << 3) | LEN;
    this.varint(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }
}

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
  const bodySize = (textBytes ? strField(textBytes) : 0) + (e.messageId === undefined ? 0 : strField(messageIdBytes));
  const size =
    (runIdBytes ? strField(runIdBytes) : 0) +
    (e.seq ? 1 + varintSize(e.seq) : 0) +
    (e.time ? 9 : 0) +
    (providerBytes ? strField(providerBytes) : 0) +
    (raw === undefined ? 0 : strField(rawBytes)) +
    1 +
    varintSize(bodySize) +
    bodySize;
  const w = new Writer(Buffer.allocUnsafe(size));
  if (runIdBytes) w.str(F_RUN_ID, e.runId, runIdBytes);
  if (e.seq) {
    w.buf[w.pos++] = (F_SEQ << 3) | VARINT;
    w.varint(e.seq);
  }
  if (e.time) {
    w.buf[w.pos++] = (F_TIME << 3) | I64;
    w.pos = w.buf.writeDoubleLE(e.time, w.pos);
  }
  if (providerBytes) w.str(F_PROVIDER, e.provider, providerBytes);
  if (raw !== undefined) w.str(F_RAW, raw, rawBytes);
  w.buf[w.pos++] = (bodyField << 3) | LEN;
  w.varint(bodySize);
  if (textBytes) w.str(1, e.text, textBytes);
  if (e.messageId !== undefined) w.str(2, e.messageId, messageIdBytes);
  return w.buf;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result >>> 0 === result ? result : result >>> 0;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }
  str(): string {
    const len = this.varint();
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

/** Null when the bytes are not a plain text event this codec reads by hand. */
function decodeTextEvent(buf: Buffer, start: number, end: number): AgentEvent | null {
  const r = new Reader(buf, start, end);
  let runId = '';
  let seq = 0;
  let time = 0;
  let provider = '';
  let raw: string | undefined;
  let type: 'text.delta' | 'message' | 'reasoning' | undefined;
  let text = '';
  let messageId: string | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === F_RUN_ID && wire === LEN) runId = r.str();
    else if (field === F_SEQ && wire === VARINT) seq = r.varint();
    else if (field === F_TIME && wire === I64) {
      time = buf.readDoubleLE(r.pos);
      r.pos += 8;
    } else if (field === F_PROVIDER && wire === LEN) provider = r.str();
    else if (field === F_RAW && wire === LEN) raw = r.str();
    else if (TEXT_TYPES[field] && wire === LEN) {
      // A later body field replaces an earlier one (oneof semantics), so start afresh.
      type = TEXT_TYPES[field];
      text = '';
      messageId = undefined;
      const len = r.varint();
      const body = new Reader(buf, r.pos, r.pos + len);
      while (body.pos < body.end) {
        const t = body.varint();
        if (t === ((1 << 3) | LEN)) text = body.str();
        else if (t === ((2 << 3) | LEN)) messageId = body.str();
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
  return event;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

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
  for (const e of events) size += 1 + varintSize(e.byteLength) + e.byteLength;
  const w = new Writer(Buffer.allocUnsafe(size));
  for (const e of events) {
    w.buf[w.pos++] = (1 << 3) | LEN;
    w.varint(e.byteLength);
    w.buf.set(e, w.pos);
    w.pos += e.byteLength;
  }
  return w.buf;
}

/** The events of an encoded forge.agent.v1.EventBatch, in order. */
export function decodeBatch(bytes: Uint8Array): AgentEvent[] {
  const buf = asBuffer(bytes);
  const r = new Reader(buf, 0, buf.length);
  const events: AgentEvent[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN)) {
      const len = r.varint();
      events.push(decodeEventAt(buf, r.pos, r.pos + len));
      r.pos += len;
    } else {
      // Not an event field: read the whole batch the generated way, which skips what it must.
      return fromBinary(EventBatchSchema, bytes).events.map(eventFromProto);
    }
  }
  return events;
}
