import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { defaultCapabilities, validateRequest, type ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { capabilitiesFromProto, capabilitiesToProto, requestFromProto, requestToProto } from './convert-request.js';
import { eventFromProto, eventToProto } from './convert-event.js';
import {
  AgentCapabilitiesSchema,
  AgentEventSchema,
  AgentRequestSchema,
  ApprovalsSchema,
} from './gen/forge/agent/v1/agent_pb.js';
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
      mcpServers: [
        { name: 'tickets', command: 'node', args: ['server.mjs', '--ro'], env: { TOKEN: 't' } },
        { name: 'docs', url: 'https://docs.example/mcp', headers: { authorization: 'Bearer x' }, transport: 'sse' },
        { name: 'bare', url: 'http://127.0.0.1:9/mcp' },
      ],
      outputSchema: {
        type: 'object',
        properties: { verdict: { enum: ['ok', 'bad'] }, n: { type: 'number', minimum: 0.5 } },
        required: ['verdict'],
      },
      outputRepairs: 0,
      effort: 'high',
      approvals: {
        rules: [
          { tool: 'Bash', input: { command: 'git *' }, decision: 'allow' },
          { tool: 'mcp__*', decision: 'ask' },
        ],
        default: 'deny',
        unanswered: { afterMs: 30_000, decision: 'cancel' },
      },
      questions: { unanswered: { afterMs: 5_000, action: 'fail' } },
      budget: { maxCostUsd: 0.25, maxTokens: 100_000, maxTurns: 7 },
      fork: true,
    });
    const wire = toBinary(AgentRequestSchema, requestToProto(request));
    expect(validateRequest(requestFromProto(fromBinary(AgentRequestSchema, wire)))).toStrictEqual(request);
  });

  it('keeps the policy objects that are present but empty, and leaves out the absent ones', () => {
    const request = validateRequest({ prompt: 'x', approvals: {}, questions: {}, budget: { maxTurns: 1 } });
    expect(requestFromProto(requestToProto(request))).toStrictEqual(request);
  });

  it("hands a foreign client's bad values to the agent's validation instead of dropping them", () => {
    const wire = requestToProto(validateRequest({ prompt: 'x' }));
    wire.effort = 'extreme';
    wire.outputSchemaJson = '[1, 2]';
    wire.approvals = create(ApprovalsSchema, { defaultDecision: 'maybe' });
    expect(() => validateRequest(requestFromProto(wire))).toThrow(
      expect.objectContaining({ code: 'INVALID_OUTPUT_SCHEMA' }),
    );
    const issues = (() => {
      try {
        validateRequest(requestFromProto(wire));
      } catch (error) {
        return (error as ValidationError).issues.map((i) => i.code).sort();
      }
    })();
    expect(issues).toEqual(['INVALID_APPROVALS', 'INVALID_EFFORT', 'INVALID_OUTPUT_SCHEMA']);
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

  it.each([
    ['everything on', { structuredOutput: 'native' as const, env: false, available: true }, true],
    ['everything off', { structuredOutput: false as const, available: false, unavailableReason: 'no binary' }, false],
    ['emulated output', { structuredOutput: 'emulated' as const }, true],
  ])('round-trips every newer flag through the binary format: %s', (_name, extra, on) => {
    const caps = defaultCapabilities({
      mcpServers: on,
      effort: on,
      approvals: on,
      questionDeadlines: on,
      budget: on,
      fork: on,
      steering: on,
      sessionPortability: on,
      images: on,
      ...extra,
    });
    const wire = toBinary(AgentCapabilitiesSchema, capabilitiesToProto(caps));
    expect(capabilitiesFromProto(fromBinary(AgentCapabilitiesSchema, wire))).toStrictEqual(caps);
  });

  it('reads an older peer, which sets none of the newer flags, as claiming none of them (env as before)', () => {
    const old = create(AgentCapabilitiesSchema, { resume: true, questions: true });
    const caps = capabilitiesFromProto(fromBinary(AgentCapabilitiesSchema, toBinary(AgentCapabilitiesSchema, old)));
    expect(caps).toStrictEqual(defaultCapabilities({ resume: true, questions: true, cancel: false }));
  });

  it('does not claim a structured-output kind it does not know', () => {
    const wire = capabilitiesToProto(defaultCapabilities());
    wire.structuredOutput = 'telepathic';
    expect(capabilitiesFromProto(wire).structuredOutput).toBe(false);
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
