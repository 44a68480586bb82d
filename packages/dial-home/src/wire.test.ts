import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { AgentEvent } from '@forge/core';
import { eventToProto, proto } from '@forge/transport-grpc';
import { describe, expect, it } from 'vitest';
import { AttachRequestSchema, HelloSchema } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { AttachRequestSchema as WireAttachRequestSchema } from './gen/forge/dialhome/wire/v1/wire_pb.js';
import { encodeEvent, fromWire, toWire } from './wire.js';

const envelope = { runId: 'run_1', provider: 'scripted', time: 1_764_000_000_123 };
const events: AgentEvent[] = [
  { ...envelope, seq: 1, type: 'session.started', sessionId: 'ses_1', model: 'm' },
  { ...envelope, seq: 2, type: 'text.delta', text: 'héllo ', messageId: 'msg_1' },
  { ...envelope, seq: 3, type: 'tool.call', callId: 'c1', name: 'Bash', input: { command: 'ls' } },
  { ...envelope, seq: 4, type: 'message', text: 'done', raw: { native: true } },
];

describe('the wire form of AttachRequest', () => {
  it('is byte-compatible with dialhome.proto both ways (agents in other languages use that)', () => {
    const encoded = events.map(encodeEvent);
    const wire = toWire({ subject: 'agent.a.run.run_1.event', body: { case: 'events', value: encoded, bytes: 0 } });
    const asStandard = fromBinary(AttachRequestSchema, toBinary(WireAttachRequestSchema, wire));
    expect(asStandard.subject).toBe('agent.a.run.run_1.event');
    expect(asStandard.body.case).toBe('events');
    expect(asStandard.body.case === 'events' && asStandard.body.value.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    // A standard encoder's bytes, read the way the hub reads them.
    const standard = create(AttachRequestSchema, {
      subject: 'agent.a.run.run_1.event',
      body: { case: 'events', value: create(proto.EventBatchSchema, { events: events.map(eventToProto) }) },
    });
    const read = fromWire(fromBinary(WireAttachRequestSchema, toBinary(AttachRequestSchema, standard)));
    expect(read.body.case).toBe('events');
    expect(read.body.case === 'events' && read.body.value).toEqual(events);

    const hello = create(AttachRequestSchema, {
      subject: 'agent.a.hello',
      body: { case: 'hello', value: create(HelloSchema, { name: 'n', provider: 'p', version: '1' }) },
    });
    const helloRead = fromWire(fromBinary(WireAttachRequestSchema, toBinary(AttachRequestSchema, hello)));
    expect(helloRead.body).toMatchObject({ case: 'hello', value: { name: 'n', provider: 'p', version: '1' } });
  });

  it('throws on a truncated event batch rather than inventing events', () => {
    const bytes = toWire({ subject: 's', body: { case: 'events', value: [encodeEvent(events[1]!)], bytes: 0 } });
    const cut = create(WireAttachRequestSchema, {
      subject: 's',
      body: { case: 'events', value: (bytes.body.value as Uint8Array).subarray(0, 5) },
    });
    expect(() => fromWire(cut)).toThrow();
  });
});
