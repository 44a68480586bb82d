import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { classifyTurnError, TurnMapper } from './turn-mapper.js';

const breakdown = (input: number, cached: number, output: number, reasoning = 0) => ({
  totalTokens: input + output,
  inputTokens: input,
  cachedInputTokens: cached,
  cacheWriteInputTokens: 0,
  outputTokens: output,
  reasoningOutputTokens: reasoning,
});

describe('TurnMapper', () => {
  it("reports each model call's usage as it arrives, sums them in the outcome, ignores other turns' messages", () => {
    const m = new TurnMapper('t1');
    const out: AgentEventInit[] = [];
    const emit = (e: AgentEventInit) => out.push(e);
    const usage = (turnId: string, last: ReturnType<typeof breakdown>) =>
      m.mine({ turnId }) && m.map('thread/tokenUsage/updated', { turnId, tokenUsage: { total: last, last } }, emit);
    usage('t1', breakdown(100, 40, 10, 2));
    usage('t0', breakdown(999, 0, 999));
    usage('t1', breakdown(200, 150, 5));
    m.map('item/completed', { turnId: 't1', item: { type: 'agentMessage', id: 'a', text: 'Done.' } }, emit);
    m.map('turn/completed', { turn: { id: 't1', status: 'completed', items: [], error: null } }, emit);
    expect(out.filter((e) => e.type === 'usage')).toMatchObject([
      { usage: { inputTokens: 60, cacheReadTokens: 40, outputTokens: 10, reasoningTokens: 2, cacheWriteTokens: 0 } },
      { usage: { inputTokens: 50, cacheReadTokens: 150, outputTokens: 5, reasoningTokens: 0, cacheWriteTokens: 0 } },
    ]);
    expect(m.outcome('th')).toMatchObject({
      status: 'completed',
      text: 'Done.',
      sessionId: 'th',
      turns: 1,
      usage: { inputTokens: 110, cacheReadTokens: 190, outputTokens: 15, reasoningTokens: 2, cacheWriteTokens: 0 },
    });
  });

  it('a turn whose model calls reported no usage still ends with one (empty) usage event', () => {
    const m = new TurnMapper('t1');
    const out: AgentEventInit[] = [];
    m.map('turn/completed', { turn: { id: 't1', status: 'completed', items: [], error: null } }, (e) => out.push(e));
    expect(out).toMatchObject([{ type: 'usage', usage: { inputTokens: 0, outputTokens: 0 } }]);
  });

  it('announces a tool once and reports a declined command as an error result', () => {
    const m = new TurnMapper();
    const out: AgentEventInit[] = [];
    const item = { type: 'commandExecution', id: 'c', command: 'rm -rf /', cwd: '/', status: 'inProgress' };
    m.map('item/started', { item }, (e) => out.push(e));
    m.map('item/completed', { item: { ...item, status: 'declined', aggregatedOutput: null, exitCode: null } }, (e) =>
      out.push(e),
    );
    expect(out.map((e) => e.type)).toEqual(['tool.call', 'tool.result']);
    expect(out[1]).toMatchObject({ callId: 'c', isError: true, output: 'declined' });
  });

  it('an interrupted turn carries no status of its own (core names it cancelled or timed_out)', () => {
    const m = new TurnMapper('t');
    m.map('turn/completed', { turn: { id: 't', status: 'interrupted', items: [], error: null } }, () => undefined);
    expect(m.outcome('th')?.status).toBeUndefined();
  });

  it.each([
    [{ message: 'unexpected status 401 Unauthorized: bad key', codexErrorInfo: null }, 'API_AUTH_ERROR', false],
    [
      { message: 'exceeded retry limit, last status: 429 Too Many Requests', codexErrorInfo: null },
      'API_RATE_LIMITED',
      true,
    ],
    [{ message: 'something odd', codexErrorInfo: 'unauthorized' }, 'API_AUTH_ERROR', false],
    [
      { message: 'something odd', codexErrorInfo: { responseStreamConnectionFailed: { httpStatusCode: 503 } } },
      'API_SERVER_ERROR',
      true,
    ],
    [{ message: 'something odd', codexErrorInfo: 'other' }, 'API_ERROR', false],
  ])('classifies a turn error %j as %s', (error, code, retryable) => {
    expect(classifyTurnError({ additionalDetails: null, misalignment: null, ...error } as never)).toMatchObject({
      code,
      retryable,
    });
  });
});
