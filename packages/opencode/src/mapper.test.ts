import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { TurnMapper, errorCode } from './mapper.js';

const SID = 'ses_1';
const mapper = (ignored: string[] = []) => {
  const out: AgentEventInit[] = [];
  const m = new TurnMapper(SID, (e) => out.push(e), ignored);
  const feed = (type: string, properties: object) =>
    m.handleFrame(JSON.stringify({ id: 'evt', type, properties: { sessionID: SID, ...properties } }));
  const strip = () => out.map(({ raw: _raw, ...e }) => e);
  return { m, out, feed, strip };
};
const assistant = (id = 'msg_a', extra: object = {}) => ({
  info: { id, sessionID: SID, role: 'assistant', time: { created: 1 }, ...extra },
});
const text = (t: string, extra: object = {}) => ({
  part: { id: 'prt_t', messageID: 'msg_a', sessionID: SID, type: 'text', text: t, time: { start: 1 }, ...extra },
});

describe('TurnMapper', () => {
  it('maps question.asked once, with the question tool defaults, and forgets questions replied or rejected', () => {
    const { m, feed, strip } = mapper();
    const q = {
      id: 'que_1',
      questions: [
        { question: 'Pick', header: 'H', options: [{ label: 'A', description: 'a' }, { label: 'B' }] },
        { question: 'Free?', options: [], multiple: true, custom: false },
      ],
    };
    feed('question.asked', q);
    feed('question.asked', q); // seen again (a reconnect): not news
    feed('question.asked', { id: 'que_2', questions: [{ question: 'Other', options: [] }] });
    expect(strip()).toEqual([
      {
        type: 'question.requested',
        id: 'que_1',
        questions: [
          {
            question: 'Pick',
            header: 'H',
            options: [{ label: 'A', description: 'a' }, { label: 'B' }],
            multiple: false,
            custom: true,
          },
          { question: 'Free?', options: [], multiple: true, custom: false },
        ],
      },
      {
        type: 'question.requested',
        id: 'que_2',
        questions: [{ question: 'Other', options: [], multiple: false, custom: true }],
      },
    ]);
    expect([...m.openQuestions]).toEqual(['que_1', 'que_2']);
    // Answered elsewhere (another client of the server), or rejected: a cancel has nothing to withdraw.
    feed('question.replied', { requestID: 'que_1', answers: [['A'], []] });
    feed('question.rejected', { requestID: 'que_2' });
    expect([...m.openQuestions]).toEqual([]);
  });

  it('reports a question.asked that does not fit its schema as OPENCODE_BAD_EVENT', () => {
    const { feed, strip } = mapper();
    feed('question.asked', { id: 'que_1', questions: [{ options: [] }] });
    expect(strip()).toMatchObject([
      { type: 'error', code: 'OPENCODE_BAD_EVENT', details: { eventType: 'question.asked' } },
    ]);
  });

  it('computes deltas when the server sends the whole part again instead of a delta', () => {
    const { feed, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.updated', text(''));
    feed('message.part.updated', text('Hel'));
    feed('message.part.updated', text('Hello'));
    feed('message.part.updated', text('Hello')); // the same again: nothing new
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_t', field: 'text', delta: ' wor' });
    feed('message.part.updated', text('Hello world', { time: { start: 1, end: 2 } }));
    feed('message.part.updated', text('Hello world', { time: { start: 1, end: 2 } }));
    expect(strip()).toEqual([
      { type: 'text.delta', text: 'Hel', messageId: 'prt_t' },
      { type: 'text.delta', text: 'lo', messageId: 'prt_t' },
      { type: 'text.delta', text: ' wor', messageId: 'prt_t' },
      { type: 'text.delta', text: 'ld', messageId: 'prt_t' },
      { type: 'message', text: 'Hello world', messageId: 'prt_t' },
    ]);
  });

  it('gives a rewritten part no bogus delta; its final message carries the new text', () => {
    const { feed, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.updated', text('draft'));
    feed('message.part.updated', text('Final', { time: { start: 1, end: 2 } }));
    expect(strip()).toEqual([
      { type: 'text.delta', text: 'draft', messageId: 'prt_t' },
      { type: 'message', text: 'Final', messageId: 'prt_t' },
    ]);
  });

  it('streams reasoning parts as reasoning events', () => {
    const { feed, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.updated', {
      part: { id: 'prt_r', messageID: 'msg_a', sessionID: SID, type: 'reasoning', text: '', time: { start: 1 } },
    });
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_r', field: 'text', delta: 'think' });
    feed('message.part.updated', {
      part: {
        id: 'prt_r',
        messageID: 'msg_a',
        sessionID: SID,
        type: 'reasoning',
        text: 'thinking',
        time: { start: 1, end: 2 },
      },
    });
    expect(strip()).toEqual([
      { type: 'reasoning', text: 'think', messageId: 'prt_r' },
      { type: 'reasoning', text: 'ing', messageId: 'prt_r' },
    ]);
  });

  it('emits tool.call once (when the input is known) and tool.result once', () => {
    const { feed, strip } = mapper();
    feed('message.updated', assistant());
    const tool = (state: object) => ({
      part: { id: 'prt_x', messageID: 'msg_a', sessionID: SID, type: 'tool', callID: 'c1', tool: 'bash', state },
    });
    feed('message.part.updated', tool({ status: 'pending', input: {}, raw: '' }));
    feed('message.part.updated', tool({ status: 'running', input: { command: 'ls' }, time: { start: 1 } }));
    feed('message.part.updated', tool({ status: 'running', input: { command: 'ls' }, metadata: { output: 'a' } }));
    feed('message.part.updated', tool({ status: 'error', input: { command: 'ls' }, error: 'boom' }));
    feed('message.part.updated', tool({ status: 'error', input: { command: 'ls' }, error: 'boom' }));
    expect(strip()).toEqual([
      { type: 'tool.call', callId: 'c1', name: 'bash', input: { command: 'ls' } },
      { type: 'tool.result', callId: 'c1', output: 'boom', isError: true },
    ]);
  });

  it('skips the user message, messages of earlier turns, and other sessions', () => {
    const { feed, m, strip } = mapper(['msg_old']);
    feed('message.updated', { info: { id: 'msg_u', sessionID: SID, role: 'user', time: { created: 1 } } });
    feed('message.part.updated', {
      part: { id: 'prt_u', messageID: 'msg_u', sessionID: SID, type: 'text', text: 'my prompt' },
    });
    feed('message.part.updated', {
      part: {
        id: 'prt_o',
        messageID: 'msg_old',
        sessionID: SID,
        type: 'text',
        text: 'old',
        time: { start: 1, end: 2 },
      },
    });
    m.handleFrame(
      JSON.stringify({
        type: 'message.part.delta',
        properties: { sessionID: 'ses_2', messageID: 'm', partID: 'p', field: 'text', delta: SID },
      }),
    );
    expect(strip()).toEqual([]);
  });

  it('counts idle only once the turn has started, and usage once per completed message', () => {
    const { feed, m, strip } = mapper();
    expect(feed('session.idle', {})).toBeUndefined();
    feed('session.status', { status: { type: 'busy' } });
    const tokens = { input: 5, output: 2, reasoning: 1, cache: { read: 3, write: 4 } };
    feed('message.updated', assistant('msg_a', { tokens, cost: 0.5, finish: 'stop' }));
    feed(
      'message.updated',
      assistant('msg_a', { tokens, cost: 0.5, finish: 'stop', time: { created: 1, completed: 2 } }),
    );
    feed(
      'message.updated',
      assistant('msg_a', { tokens, cost: 0.5, finish: 'stop', time: { created: 1, completed: 2 } }),
    );
    expect(feed('session.idle', {})).toBe('idle');
    expect(strip()).toEqual([
      {
        type: 'usage',
        usage: { inputTokens: 5, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, reasoningTokens: 1 },
        costUsd: 0.5,
        messageId: 'msg_a',
      },
    ]);
    expect(m.costUsd).toBe(0.5);
    expect(m.turns).toBe(1);
  });

  it('reports retries as warnings and keeps the session error', () => {
    const { feed, m, strip } = mapper();
    feed('session.status', { status: { type: 'retry', attempt: 2, message: 'Internal Server Error', next: 5 } });
    feed('session.error', { error: { name: 'APIError', data: { message: 'bad', isRetryable: false } } });
    expect(strip()).toEqual([
      { type: 'log', level: 'warn', text: 'OpenCode retries the model request (attempt 2): Internal Server Error' },
      {
        type: 'error',
        code: 'OPENCODE_API_ERROR',
        message: 'APIError: bad',
        retryable: false,
        details: { name: 'APIError', data: { message: 'bad', isRetryable: false } },
      },
    ]);
    expect(m.failure()?.name).toBe('APIError');
  });

  it('says an error is retryable when OpenCode marks it so', () => {
    const { feed, strip } = mapper();
    feed('session.error', { error: { name: 'APIError', data: { message: 'overloaded', isRetryable: true } } });
    expect(strip()).toMatchObject([{ type: 'error', code: 'OPENCODE_API_ERROR', retryable: true }]);
  });

  it('finishes a text part the stream never closed (abort, error) as a message', () => {
    const { feed, m, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.updated', text('partial'));
    m.finish();
    m.finish();
    expect(strip()).toEqual([
      { type: 'text.delta', text: 'partial', messageId: 'prt_t' },
      { type: 'message', text: 'partial', messageId: 'prt_t' },
    ]);
  });

  it('names error codes after the server error names', () => {
    expect(errorCode({ name: 'APIError' })).toBe('OPENCODE_API_ERROR');
    expect(errorCode({ name: 'MessageAbortedError' })).toBe('OPENCODE_MESSAGE_ABORTED_ERROR');
    expect(errorCode({ name: 'ProviderAuthError' })).toBe('OPENCODE_PROVIDER_AUTH_ERROR');
  });

  it('reads deltas the same on the fast path (usual key order) and the full parse (any other)', () => {
    const usual = mapper();
    const other = mapper();
    for (const { feed } of [usual, other]) {
      feed('message.updated', assistant());
      feed('message.part.updated', text(''));
    }
    const tricky = ['plain ', 'with "quotes" ', 'back\\slash \n', 'unicode é ✓ ', '}}"'];
    for (const delta of tricky) {
      // JSON.stringify keeps insertion order: envelope id, type, then properties in OpenCode's order.
      usual.m.handleFrame(
        JSON.stringify({
          id: 'evt_1',
          type: 'message.part.delta',
          properties: { sessionID: SID, messageID: 'msg_a', partID: 'prt_t', field: 'text', delta },
        }),
      );
      other.m.handleFrame(
        JSON.stringify({
          properties: { delta, field: 'text', partID: 'prt_t', messageID: 'msg_a', sessionID: SID },
          type: 'message.part.delta',
        }),
      );
    }
    expect(usual.strip()).toEqual(other.strip());
    expect(usual.strip().map((e) => (e as { text: string }).text)).toEqual(tricky);
  });

  it('skips frames it provably does not need without parsing them, and still sees the ones it does', () => {
    const { m, feed, strip } = mapper();
    feed('session.updated', { info: { id: SID, title: 'x' } });
    feed('message.updated', { info: { id: 'msg_u', sessionID: SID, role: 'user', time: { created: 1 } } });
    feed('message.part.updated', { part: { id: 'prt_s', messageID: 'msg_a', sessionID: SID, type: 'step-start' } });
    feed('session.status', { status: { type: 'busy' } });
    expect(m.turnStarted).toBe(true);
    feed('message.updated', assistant());
    feed(
      'message.updated',
      assistant('msg_a', {
        tokens: { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } },
        time: { created: 1, completed: 2 },
      }),
    );
    expect(strip()).toEqual([
      {
        type: 'usage',
        usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
        messageId: 'msg_a',
      },
    ]);
  });

  it('after a stream gap, holds an open part back until its final text instead of emitting a hole', () => {
    const { m, feed, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.updated', text(''));
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_t', field: 'text', delta: 'a ' });
    m.markGap();
    // Reconciling: the stored part does not hold streamed text yet.
    m.applyMessages([{ info: { id: 'msg_a', sessionID: SID, role: 'assistant' }, parts: [text('').part] }]);
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_t', field: 'text', delta: 'd ' });
    // A part born during the gap, first met through a delta: held back too.
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_2', field: 'text', delta: 'y' });
    feed('message.part.updated', text('a b c d', { time: { start: 1, end: 2 } }));
    feed('message.part.updated', {
      part: { id: 'prt_2', messageID: 'msg_a', sessionID: SID, type: 'text', text: 'xy', time: { start: 1, end: 2 } },
    });
    expect(strip()).toEqual([
      { type: 'text.delta', text: 'a ', messageId: 'prt_t' },
      { type: 'text.delta', text: 'b c d', messageId: 'prt_t' },
      { type: 'message', text: 'a b c d', messageId: 'prt_t' },
      { type: 'text.delta', text: 'xy', messageId: 'prt_2' },
      { type: 'message', text: 'xy', messageId: 'prt_2' },
    ]);
  });

  it('treats a snapshot that lags the deltas as nothing new, not as a rewrite', () => {
    const { feed, strip } = mapper();
    feed('message.updated', assistant());
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_t', field: 'text', delta: 'abc' });
    feed('message.part.updated', text('ab'));
    feed('message.part.delta', { messageID: 'msg_a', partID: 'prt_t', field: 'text', delta: 'd' });
    feed('message.part.updated', text('abcd', { time: { start: 1, end: 2 } }));
    expect(strip().map((e) => (e as { text: string }).text)).toEqual(['abc', 'd', 'abcd']);
  });
});
