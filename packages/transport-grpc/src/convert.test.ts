import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { defaultCapabilities, validateRequest, type AgentEvent } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { capabilitiesFromProto, capabilitiesToProto, requestFromProto, requestToProto } from './convert-request.js';
import { eventFromProto, eventToProto } from './convert-event.js';
import { AgentEventSchema, AgentRequestSchema } from './gen/forge/agent/v1/agent_pb.js';

const env = { runId: 'run_1', time: 1_700_000_000_123, provider: 'claude-code' };
let seq = 0;
const e = (body: Record<string, unknown>): AgentEvent => ({ ...env, seq: ++seq, ...body }) as AgentEvent;

/** One of every event type, with optional fields both set and unset. */
const events: AgentEvent[] = [
  e({ type: 'session.started', sessionId: 's1', model: 'm', tools: ['Bash', 'Read'], cwd: '/w', permissionMode: 'plan', raw: { type: 'system', subtype: 'init' } }),
  e({ type: 'session.started', sessionId: 's2', tools: [] }),
  e({ type: 'session.started', sessionId: 's3' }),
  e({ type: 'text.delta', text: 'he', messageId: 'm1' }),
  e({ type: 'text.delta', text: '' }),
  e({ type: 'message', text: 'hello', messageId: 'm1' }),
  e({ type: 'reasoning', text: 'hmm' }),
  e({ type: 'tool.call', callId: 'c1', name: 'Bash', input: { command: 'ls', nested: [1, null, { a: 'ü' }] } }),
  e({ type: 'tool.call', callId: 'c2', name: 'Noop', input: undefined }),
  e({ type: 'tool.result', callId: 'c1', output: 'a\nb', isError: false }),
  e({ type: 'tool.result', callId: 'c2', output: null, isError: true }),
  e({ type: 'tool.result', callId: 'c3', output: undefined, isError: false }),
  e({ type: 'permission.requested', id: 'p1', tool: 'Write', input: { path: '/etc/x' } }),
  e({ type: 'usage', usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, reasoningTokens: 5 }, costUsd: 0.0123, messageId: 'm1' }),
  e({ type: 'usage', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }),
  e({ type: 'log', text: 'stderr line', level: 'warn', stream: 'stderr' }),
  e({ type: 'log', text: 'plain' }),
  e({ type: 'error', code: 'RATE_LIMITED', message: 'slow down', retryable: true, details: { retryAfterMs: 1000 } }),
  e({ type: 'error', code: 'X', message: 'y', retryable: false }),
  e({
    type: 'run.completed',
    result: {
      status: 'failed',
      text: 'partial',
      sessionId: 's1',
      usage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.5,
      durationMs: 1234.5,
      turns: 3,
      error: { code: 'PROVIDER_ERROR', message: 'boom' },
    },
    raw: { type: 'result', is_error: true, big: 12345678901234 },
  }),
  e({ type: 'run.completed', result: { status: 'completed', text: '', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, durationMs: 0, turns: 0 } }),
];

describe('eventToProto / eventFromProto', () => {
  it.each(events.map((ev) => [ev.type, ev] as const))('round-trips %s through the binary wire format unchanged', (_type, event) => {
    const wire = toBinary(AgentEventSchema, eventToProto(event));
    const back = eventFromProto(fromBinary(AgentEventSchema, wire));
    expect(back).toStrictEqual(event);
  });

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
      attachments: [{ kind: 'image', data: 'aGk=', mimeType: 'image/png', name: 'a.png' }, { kind: 'file', path: '/x' }],
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
    const caps = defaultCapabilities({ resume: true, models: ['a', 'b'], version: '2.1.0', extra: { transport: 'stdio' } });
    expect(capabilitiesFromProto(capabilitiesToProto(caps))).toStrictEqual(caps);
  });
});
