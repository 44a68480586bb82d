import type { AgentEvent } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { serializePayload, webhookPayload } from './payload.js';

const envelope = { runId: 'run_1', time: 1, provider: 'test' };

describe('webhookPayload', () => {
  it('maps event types and marks only run.completed final', () => {
    const events: AgentEvent[] = [
      { ...envelope, seq: 1, type: 'text.delta', text: 'hi', raw: { big: 'x' } },
      { ...envelope, seq: 2, type: 'error', code: 'E', message: 'm', retryable: false },
      {
        ...envelope,
        seq: 3,
        type: 'run.completed',
        result: {
          status: 'completed',
          text: 'hi',
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
          durationMs: 1,
          turns: 1,
        },
      },
    ];
    const payloads = events.map((e) => webhookPayload('agent_1', 'req_1', e));
    expect(payloads.map((p) => [p.event_type, p.seq, p.is_final])).toEqual([
      ['agent.event', 1, false],
      ['agent.error', 2, false],
      ['agent.complete', 3, true],
    ]);
    expect(payloads[0]).toMatchObject({
      agent_id: 'agent_1',
      request_id: 'req_1',
      event: { type: 'text.delta', text: 'hi' },
    });
    expect(payloads[0]!.event).not.toHaveProperty('raw');
    expect(webhookPayload('a', 'r', events[0]!, { includeRaw: true }).event).toHaveProperty('raw', { big: 'x' });
  });

  it('adds the provider’s native event and its type with native: true, and nothing on events without one', () => {
    const raw = { type: 'message.part.updated', properties: { part: { type: 'text', text: 'hi' } } };
    const withRaw: AgentEvent = { ...envelope, seq: 1, type: 'text.delta', text: 'hi', raw };
    const native = JSON.parse(serializePayload(webhookPayload('a', 'r', withRaw, { native: true })));
    expect(native).toMatchObject({ native_event: raw, native_event_type: 'message.part.updated' });
    expect(native.event).not.toHaveProperty('raw');
    const untyped = webhookPayload('a', 'r', { ...withRaw, raw: ['line'] }, { native: true });
    expect(untyped).toHaveProperty('native_event', ['line']);
    expect(untyped).not.toHaveProperty('native_event_type');
    const plain: AgentEvent = { ...envelope, seq: 2, type: 'text.delta', text: 'hi' };
    expect(webhookPayload('a', 'r', plain, { native: true })).not.toHaveProperty('native_event');
    expect(webhookPayload('a', 'r', withRaw)).not.toHaveProperty('native_event');
  });

  it('carries a question as an agent.event with its questions and options intact', () => {
    const event: AgentEvent = {
      ...envelope,
      seq: 4,
      type: 'question.requested',
      id: 'q_1',
      questions: [
        { question: 'Which?', header: 'H', options: [{ label: 'A', description: 'a' }], multiple: true, custom: false },
      ],
    };
    const payload = JSON.parse(serializePayload(webhookPayload('agent_1', 'req_1', event)));
    expect(payload).toMatchObject({ event_type: 'agent.event', seq: 4, is_final: false });
    expect(payload.event).toEqual({ ...event });
  });

  it('serializes a payload JSON.stringify would choke on', () => {
    const input: Record<string, unknown> = { n: 10n };
    input.self = input;
    const event: AgentEvent = { ...envelope, seq: 1, type: 'tool.call', callId: 'c', name: 't', input };
    const parsed = JSON.parse(serializePayload(webhookPayload('a', 'r', event)));
    expect(parsed.event.input).toEqual({ n: '10', self: '[Circular]' });
  });
});
