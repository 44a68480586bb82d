import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { ClaudeEventMapper, mapClaudeMessage, resultOutcome } from './mapper.js';
import { StreamJsonParser, type ClaudeMessage } from './stream-json.js';
import { fixture, fixtureBytes, type FixtureName } from './test-support/recorded-stdout.js';

function mapFixture(name: FixtureName, chunks?: Uint8Array[]): { events: AgentEventInit[]; mapper: ClaudeEventMapper } {
  const mapper = new ClaudeEventMapper();
  const events: AgentEventInit[] = [];
  const parser = new StreamJsonParser((item) => mapper.mapItem(item, (e) => events.push(e)));
  for (const c of chunks ?? [fixtureBytes(name)]) parser.push(c);
  parser.end();
  return { events, mapper };
}

const brief = (events: AgentEventInit[]) =>
  events.map((e) => {
    switch (e.type) {
      case 'text.delta':
      case 'message':
      case 'reasoning':
        return `${e.type}:${e.text}`;
      case 'tool.call':
        return `tool.call:${e.name}:${JSON.stringify(e.input)}`;
      case 'tool.result':
        return `tool.result:${String(e.output)}:${e.isError}`;
      case 'usage':
        return `usage:${e.usage.inputTokens}/${e.usage.outputTokens}`;
      case 'log':
        return `log:${e.text}`;
      default:
        return e.type;
    }
  });

describe('ClaudeEventMapper on recorded streams', () => {
  it('text: session, message, usage once; the result gives the outcome', () => {
    const { events, mapper } = mapFixture('text');
    expect(brief(events)).toEqual(['session.started', 'message:Hello from the fake model.', 'usage:12/1']);
    expect(events[0]).toMatchObject({
      type: 'session.started',
      sessionId: 'c0f76b28-013e-4076-b073-b9fb74f40037',
      model: 'claude-opus-4-8[1m]',
      cwd: '/home/dev/project',
      permissionMode: 'default',
    });
    expect((events[0] as { tools: string[] }).tools).toContain('Bash');
    expect(events[1]).toMatchObject({ messageId: 'msg_d4k7la65' });
    for (const e of events) expect(e.raw).toBeTypeOf('object');
    const outcome = resultOutcome(mapper.result!);
    expect(outcome).toMatchObject({
      status: 'completed',
      text: 'Hello from the fake model.',
      sessionId: 'c0f76b28-013e-4076-b073-b9fb74f40037',
      costUsd: 0.00026,
      turns: 1,
      usage: { inputTokens: 12, outputTokens: 8, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });
    expect(outcome.raw).toBe(mapper.result);
  });

  it('tool: one usage per API message though it spans several assistant lines; tool call and result', () => {
    const { events } = mapFixture('tool');
    expect(brief(events)).toEqual([
      'session.started',
      'message:I will run a command.',
      'usage:12/1',
      'tool.call:Bash:{"command":"echo hi","description":"run it"}',
      'tool.result:hi:false',
      'message:The command printed hi. Done.',
      'usage:12/1',
    ]);
    const call = events.find((e) => e.type === 'tool.call')!;
    const result = events.find((e) => e.type === 'tool.result')!;
    expect(call.type === 'tool.call' && result.type === 'tool.result' && call.callId === result.callId).toBe(true);
  });

  it('think: reasoning, and the thinking_tokens status passes through as a debug log', () => {
    const { events } = mapFixture('think');
    expect(brief(events)).toEqual([
      'session.started',
      'log:system/thinking_tokens',
      'reasoning:Let me think.',
      'usage:12/1',
      'message:Hello from the fake model.',
    ]);
  });

  it('partial: text deltas with their message id, usage from message_delta, whole messages kept', () => {
    const { events, mapper } = mapFixture('partial');
    expect(brief(events)).toEqual([
      'session.started',
      'log:system/status',
      'text.delta:I will run a command.',
      'message:I will run a command.',
      'tool.call:Bash:{"command":"echo hi","description":"run it"}',
      'usage:12/20',
      'tool.result:hi:false',
      'log:system/status',
      'text.delta:The command ',
      'text.delta:printed hi. ',
      'text.delta:Done.',
      'message:The command printed hi. Done.',
      'usage:12/8',
    ]);
    const deltas = events.filter((e) => e.type === 'text.delta');
    expect(deltas.map((e) => e.type === 'text.delta' && e.messageId)).toEqual([
      'msg_iz2ko8p9',
      'msg_jfx8rzb3',
      'msg_jfx8rzb3',
      'msg_jfx8rzb3',
    ]);
    expect(resultOutcome(mapper.result!)).toMatchObject({
      status: 'completed',
      text: 'The command printed hi. Done.',
      turns: 2,
    });
  });

  it('maxturns: fails with the subtype as code and the CLI’s error text', () => {
    const { mapper } = mapFixture('maxturns');
    expect(resultOutcome(mapper.result!)).toMatchObject({
      status: 'failed',
      error: { code: 'ERROR_MAX_TURNS', message: 'Reached maximum number of turns (1)' },
      sessionId: '7bb44d77-7b63-4393-9a3b-2f79022604ac',
      turns: 2,
    });
  });

  it('gives the same events whatever the chunking', () => {
    const bytes = fixtureBytes('partial');
    const whole = mapFixture('partial').events;
    for (const size of [1, 7, 64, 1000]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(mapFixture('partial', chunks).events).toEqual(whole);
    }
    expect(fixture('partial').length).toBeGreaterThan(1000);
  });
});

describe('mapClaudeMessage', () => {
  it('surfaces system/api_retry as a retryable error event', () => {
    const msg: ClaudeMessage = {
      type: 'system',
      subtype: 'api_retry',
      attempt: 2,
      max_retries: 10,
      retry_delay_ms: 1123.7,
      error_status: 500,
      error: 'server_error',
      session_id: 's',
    };
    expect(mapClaudeMessage(msg)).toEqual([
      {
        type: 'error',
        code: 'API_RETRY',
        message: 'Model API call failed (HTTP 500): server_error; retry 2 of 10 in 1124 ms',
        retryable: true,
        details: { attempt: 2, maxRetries: 10, retryDelayMs: 1123.7, errorStatus: 500, error: 'server_error' },
        raw: msg,
      },
    ]);
  });

  it('passes an unknown message type through as a debug log with its raw, never dropped', () => {
    const msg = { type: 'brand_new_thing', subtype: 'x', payload: [1] } as ClaudeMessage;
    expect(mapClaudeMessage(msg)).toEqual([
      { type: 'log', text: 'unmapped claude-code message "brand_new_thing/x"', level: 'debug', raw: msg },
    ]);
    const typeless = { hello: 1 } as unknown as ClaudeMessage;
    expect(mapClaudeMessage(typeless)[0]).toMatchObject({ type: 'log', level: 'debug', raw: typeless });
  });

  it('maps tool results with is_error and array content, and user text as a log', () => {
    const msg: ClaudeMessage = {
      type: 'user',
      message: {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
            is_error: true,
          },
          { type: 'text', text: '[Request interrupted by user for tool use]' },
        ],
      },
    };
    expect(brief(mapClaudeMessage(msg))).toEqual([
      'tool.result:ab:true',
      'log:[Request interrupted by user for tool use]',
    ]);
  });

  it('keeps a tool result whose content is not text as is', () => {
    const content = [{ type: 'image', source: { type: 'base64', data: 'AA' } }];
    const [e] = mapClaudeMessage({
      type: 'user',
      message: { content: [{ type: 'tool_result', tool_use_id: 't', content }] },
    });
    expect(e).toMatchObject({ type: 'tool.result', output: content, isError: false });
  });

  it('turns oversize and text lines into error and log events', () => {
    const mapper = new ClaudeEventMapper();
    const out: AgentEventInit[] = [];
    mapper.mapItem({ kind: 'text', text: 'Warning: x' }, (e) => out.push(e));
    mapper.mapItem({ kind: 'oversize', bytes: 99, preview: '{' }, (e) => out.push(e));
    expect(out).toEqual([
      { type: 'log', text: 'Warning: x', level: 'warn', stream: 'stdout' },
      {
        type: 'error',
        code: 'LINE_TOO_LONG',
        message: expect.stringContaining('99 bytes'),
        retryable: false,
        details: { bytes: 99, preview: '{' },
      },
    ]);
  });
});

describe('resultOutcome', () => {
  const base = { type: 'result', session_id: 's', num_turns: 1, usage: { input_tokens: 0, output_tokens: 0 } };

  it('fails an is_error success as API_ERROR or API_AUTH_ERROR by HTTP status', () => {
    expect(
      resultOutcome({ ...base, subtype: 'success', is_error: true, api_error_status: 500, result: 'API Error: 500' })
        .error,
    ).toEqual({ code: 'API_ERROR', message: 'API Error: 500' });
    expect(
      resultOutcome({
        ...base,
        subtype: 'success',
        is_error: true,
        api_error_status: 401,
        result: 'Failed to authenticate',
      }).error?.code,
    ).toBe('API_AUTH_ERROR');
  });

  it('leaves text and usage to the run when an interrupted result has none', () => {
    const o = resultOutcome({ ...base, subtype: 'error_during_execution', is_error: true });
    expect(o).toMatchObject({ status: 'failed', sessionId: 's', error: { code: 'ERROR_DURING_EXECUTION' } });
    expect(o.text).toBeUndefined();
    expect(o.usage).toBeUndefined();
  });

  it('gives structured_output (--json-schema) as the output, unchecked (core checks it)', () => {
    const o = resultOutcome({
      ...base,
      subtype: 'success',
      is_error: false,
      result: '{"verdict":"approve"}',
      structured_output: { verdict: 'approve' },
    });
    expect(o).toMatchObject({ status: 'completed', output: { verdict: 'approve' } });
    expect(resultOutcome({ ...base, subtype: 'success', result: 'plain' }).output).toBeUndefined();
  });

  it('adds the usage and turns of the earlier results of a steered run', () => {
    const turn = (n: number) => ({
      ...base,
      subtype: 'success',
      num_turns: n,
      usage: { input_tokens: n, output_tokens: 1 },
    });
    const o = resultOutcome(turn(2), [turn(1), turn(3)]);
    expect(o.turns).toBe(6);
    expect(o.usage).toMatchObject({ inputTokens: 6, outputTokens: 3 });
  });
});

describe('the CLI replaying a message written to its stdin', () => {
  it('gives no event: the host sent it', () => {
    const replay = { type: 'user', isReplay: true, uuid: 'u1', message: { role: 'user', content: 'steer' } };
    expect(mapClaudeMessage(replay)).toEqual([]);
  });
});
