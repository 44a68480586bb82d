import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { TextDeltaEventSchema } from './gen/forge/agent/v1/agent_pb.js';
import { ProtoReader, ProtoWriter, WireType, lenFieldSize, varintSize } from './proto-wire.js';

describe('proto-wire', () => {
  it('writes what the generated codec reads, and reads what it writes', () => {
    const text = 'héllo wörld';
    const bytes = Buffer.byteLength(text);
    const w = ProtoWriter.alloc(lenFieldSize(bytes) + lenFieldSize(5));
    w.string(1, text, bytes);
    w.string(2, 'msg_1', 5);
    expect(w.pos).toBe(w.buf.length);
    expect(fromBinary(TextDeltaEventSchema, w.buf)).toMatchObject({ text, messageId: 'msg_1' });

    const r = ProtoReader.of(
      toBinary(TextDeltaEventSchema, create(TextDeltaEventSchema, { text, messageId: 'msg_1' })),
    );
    expect(r.varint()).toBe((1 << 3) | WireType.LEN);
    expect(r.string()).toBe(text);
    expect(r.varint()).toBe((2 << 3) | WireType.LEN);
    expect(r.string()).toBe('msg_1');
    expect(r.pos).toBe(r.end);
  });

  it('round-trips varints across their size boundaries', () => {
    for (const v of [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0xffffffff]) {
      const w = ProtoWriter.alloc(varintSize(v));
      w.varint(v);
      expect(w.pos).toBe(varintSize(v));
      expect(ProtoReader.of(w.buf).varint()).toBe(v);
    }
  });

  it('throws on truncated input instead of reading past the end', () => {
    const w = ProtoWriter.alloc(lenFieldSize(5));
    w.string(1, 'hello', 5);
    const cut = ProtoReader.of(w.buf.subarray(0, 4));
    cut.varint();
    expect(() => cut.string()).toThrow(/truncated/);
    expect(() => ProtoReader.of(Uint8Array.of(0x80)).varint()).toThrow(/truncated/);
    expect(() => ProtoReader.of(Uint8Array.of(1, 2, 3)).double()).toThrow(/truncated/);
  });
});
