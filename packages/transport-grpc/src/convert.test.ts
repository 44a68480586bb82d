import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { defaultCapabilities, validateRequest } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { capabilitiesFromProto, capabilitiesToProto, requestFromProto, requestToProto } from './convert-request.js';
import { eventFromProto, eventToProto } from './convert-event.js';
import { AgentCapabilitiesSchema, AgentEventSchema, AgentRequestSchema } from './gen/forge/agent/v1/agent_pb.js';
import { e, sampleEvents as events } from './test-support/sample-events.js';

describe('eventToProto / eventFromProto', () => {
  it.each(events.map((ev) => [ev.type, ev] as const))(
    'round-trips %s through the binary wire format unchanged',
    (_type, event) => {
      const wire = toBinary(AgentEventSchema, eventToProto(event));
      const back = eventFromProto(fromBinary(AgentEventSchema, wire));
      expect(back).toStrictEqual(event);
    },
  );

  it('keeps a raw event that is not a plain object', () => {
    for (const raw of ['line of text', 42, [1, 2], null, false]) {
      const event = e({ type: 'log', text: 'x', raw });
      expect(eventFromProto(eventToProto(event)).raw).toStrictEqual(raw);
    }
  });

  it.each([
    { type: 'file.changed', path: 'src/a.ts', change: 'modified', diff: '@@ -1 +1 @@' },
    { type: 'plan.updated', entries: [{ content: 'write the test', status: 'in_progress' }] },
    { type: 'permission.resolved', id: 'p1', decision: 'allow', by: 'host' },
    { type: 'question.resolved', id: 'q1', by: 'unanswered' },
  ])('carries $type, which agent.proto has no body for yet, as a debug log keeping the event and the seq', (body) => {
    const event = e(body);
    const back = eventFromProto(fromBinary(AgentEventSchema, toBinary(AgentEventSchema, eventToProto(event))));
    expect(back).toMatchObject({ type: 'log', level: 'debug', seq: event.seq, raw: { event: body } });
  });

  it('turns a body it does not know into a log event that keeps the seq', () => {
    const message = eventToProto(e({ type: 'text.delta', text: 'x' }));
    message.body = { case: undefined, value: undefined };
    const back = eventFromProto(message);
    expect(back).toMatchObject({ type: 'log', seq: message.seq, runId: 'run_1' });
  });
});

describe('requestToProto / requestFromProto', () => {
  it('round-trips every request field', () => {
    const request = validateRequest({
      prompt: 'fix the bug',
      sessionId: 'ses',
      cwd: '/work',
      model: 'sonnet',
      systemPrompt: 'be brief',
      allowedTools: ['Read'],
      disallowedTools: [],
      permissionMode: 'acceptEdits',
      maxTurns: 4,
      timeoutMs: 60_000,
      env: { FOO: 'bar' },
      attachments: [
        { kind: 'image', data: 'aGk=', mimeType: 'image/png', name: 'a.png' },
        { kind: 'file', path: '/x' },
      ],
      metadata: { ticket: 12, tags: ['a'] },
    });
    const wire = toBinary(AgentRequestSchema, requestToProto(request));
    expect(validateRequest(requestFromProto(fromBinary(AgentRequestSchema, wire)))).toStrictEqual(request);
  });

  it('leaves unset fields unset', () => {
    const request = validateRequest({ prompt: 'hi' });
    expect(requestFromProto(requestToProto(request))).toStrictEqual({ prompt: 'hi' });
  });
});

describe('capabilities', () => {
  it('round-trips', () => {
    const caps = defaultCapabilities({
      resume: true,
      models: ['a', 'b'],
      version: '2.1.0',
      extra: { transport: 'stdio' },
    });
    expect(capabilitiesFromProto(capabilitiesToProto(caps))).toStrictEqual(caps);
  });

  it('carries questions, and an older peer that leaves it unset does not claim it', () => {
    const caps = defaultCapabilities({ questions: true, permissionReplies: true });
    expect(capabilitiesFromProto(capabilitiesToProto(caps)).questions).toBe(true);
    const old = capabilitiesToProto(caps);
    old.questions = false;
    expect(
      capabilitiesFromProto(fromBinary(AgentCapabilitiesSchema, toBinary(AgentCapabilitiesSchema, old))).questions,
    ).toBe(false);
  });
});
