import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { eventFromProto, eventToProto } from './convert-event.js';
import { decodeBatch, decodeEvent, encodeBatch, encodeEvent } from './event-codec.js';
import { AgentEventSchema, EventBatchSchema } from './gen/forge/agent/v1/agent_pb.js';
import { e, sampleEvents } from './test-support/sample-events.js';

const textEvents = [
  ...sampleEvents.filter((ev) => ['text.delta', 'message', 'reasoning'].includes(ev.type)),
  e({ type: 'text.delta', text: 'ünïcödé 🚀 and a lone \u00e9', messageId: '' }),
  e({
    type: 'message',
    text: 'x'.repeat(70_000),
    raw: { type: 'assistant', message: { content: [{ type: 'text', text: 'x' }] } },
  }),
  { ...e({ type: 'reasoning', text: 'r' }), seq: 0xffffffff, time: 0, runId: '', provider: '' },
  { ...e({ type: 'text.delta', text: 't' }), time: 1234.5678 },
  e({ type: 'message', text: 'from a subagent', parentToolCallId: 'toolu_ü', raw: { parent_tool_use_id: 'toolu_ü' } }),
];

describe('the hand-written event codec', () => {
  it.each([...sampleEvents, ...textEvents].map((ev) => [ev.type, ev] as const))(
    'reads what it writes: %s',
    (_t, event) => {
      expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
    },
  );

  it.each(textEvents.map((ev, i) => [i, ev] as const))(
    'writes the same bytes as the generated codec (text event %i)',
    (_i, event) => {
      const ours = encodeEvent(event);
      expect(Buffer.from(ours).equals(Buffer.from(toBinary(AgentEventSchema, eventToProto(event))))).toBe(true);
      expect(eventFromProto(fromBinary(AgentEventSchema, ours))).toStrictEqual(event);
    },
  );

  it.each([...sampleEvents, ...textEvents].map((ev) => [ev.type, ev] as const))(
    'reads what the generated codec writes: %s',
    (_t, event) => {
      expect(decodeEvent(toBinary(AgentEventSchema, eventToProto(event)))).toStrictEqual(event);
    },
  );

  it('encodes and decodes a whole batch as forge.agent.v1.EventBatch', () => {
    const all = [...sampleEvents, ...textEvents];
    const ours = encodeBatch(all.map(encodeEvent));
    const generated = toBinary(EventBatchSchema, create(EventBatchSchema, { events: all.map(eventToProto) }));
    expect(Buffer.from(ours).equals(Buffer.from(generated))).toBe(true);
    expect(decodeBatch(ours)).toStrictEqual(all);
    expect(decodeBatch(new Uint8Array(0))).toEqual([]);
  });

  it('falls back to the generated codec for fields it does not read by hand', () => {
    const message = eventToProto(e({ type: 'text.delta', text: 'x' }));
    const bytes = Buffer.concat([Buffer.from(toBinary(AgentEventSchema, message)), Buffer.from([0xf8, 0x01, 0x07])]); // unknown field 31 = 7
    expect(decodeEvent(bytes)).toMatchObject({ type: 'text.delta', text: 'x' });
  });
});
