import type { AgentEvent, AgentEventInit, AgentResult } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { type ChunkMapperOptions, UIMessageChunkMapper } from './ui-message-chunk-mapper.js';

const result = (over: Partial<AgentResult> = {}): AgentResult => ({
  status: 'completed',
  text: '',
  usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 },
  durationMs: 5,
  turns: 1,
  ...over,
});

/** The chunks a list of events becomes, `start()` included; seq and envelope filled in. */
function chunks(
  events: (AgentEventInit | { type: 'run.completed'; result: AgentResult })[],
  options?: ChunkMapperOptions,
) {
  const mapper = new UIMessageChunkMapper({ id: 'run_1', provider: 'p' }, options);
  const out = mapper.start();
  events.forEach((e, i) => {
    out.push(...mapper.map({ ...e, runId: 'run_1', seq: i + 1, time: 0, provider: 'p' } as AgentEvent));
  });
  return out;
}

const types = (cs: { type: string }[]) => cs.map((c) => c.type);

describe('UIMessageChunkMapper', () => {
  it('opens the message with start (run metadata) and a step', () => {
    expect(chunks([])).toEqual([
      { type: 'start', messageMetadata: { forge: { runId: 'run_1', provider: 'p' } } },
      { type: 'start-step' },
    ]);
    expect(chunks([], { sendStart: false, sendMetadata: false })).toEqual([{ type: 'start-step' }]);
  });

  it('a message whose deltas missed its end gets the rest as one more delta', () => {
    const out = chunks([
      { type: 'text.delta', text: 'Hel', messageId: 'm' },
      { type: 'message', text: 'Hello', messageId: 'm' },
    ]).slice(2);
    expect(out).toEqual([
      { type: 'text-start', id: 'text-1' },
      { type: 'text-delta', id: 'text-1', delta: 'Hel' },
      { type: 'text-delta', id: 'text-1', delta: 'lo' },
      { type: 'text-end', id: 'text-1' },
    ]);
  });

  it('a new message id starts a new text part; a message already streamed before a tool call is not repeated', () => {
    const out = chunks([
      { type: 'text.delta', text: 'one', messageId: 'a' },
      { type: 'text.delta', text: 'two', messageId: 'b' },
      { type: 'tool.call', callId: 'c1', name: 'Bash', input: {} },
      // OpenCode sends the whole part after the tool call started.
      { type: 'message', text: 'two', messageId: 'b' },
    ]).slice(2);
    expect(types(out)).toEqual([
      'text-start',
      'text-delta',
      'text-end',
      'text-start',
      'text-delta',
      'text-end',
      'tool-input-available',
    ]);
  });

  it('a tool result for a call never seen gets a tool part first (the AI SDK refuses an orphan output)', () => {
    const out = chunks([
      { type: 'permission.requested', id: 'c9', tool: 'Write', input: { path: 'a' } },
      { type: 'tool.result', callId: 'c9', output: { denied: true }, isError: true },
      { type: 'tool.result', callId: 'c10', output: 'x', isError: false },
    ]).slice(3);
    expect(out).toEqual([
      { type: 'tool-input-available', toolCallId: 'c9', toolName: 'Write', input: { path: 'a' }, dynamic: true },
      { type: 'tool-output-error', toolCallId: 'c9', errorText: '{"denied":true}', dynamic: true },
      { type: 'tool-input-available', toolCallId: 'c10', toolName: 'unknown', input: undefined, dynamic: true },
      { type: 'tool-output-available', toolCallId: 'c10', output: 'x', dynamic: true },
    ]);
  });

  it('an answer updates the request part in place and leaves streaming text open', () => {
    const out = chunks([
      {
        type: 'question.requested',
        id: 'q',
        questions: [{ question: 'Go?', options: [], multiple: false, custom: true }],
      },
      { type: 'text.delta', text: 'Waiting', messageId: 'm' },
      { type: 'question.resolved', id: 'q', by: 'unanswered' },
      { type: 'permission.resolved', id: 'never-asked', decision: 'deny', by: 'rule' },
      { type: 'text.delta', text: '…', messageId: 'm' },
    ]).slice(2);
    expect(types(out)).toEqual([
      'data-question',
      'text-start',
      'text-delta',
      'data-question',
      'data-permission',
      'text-delta',
    ]);
    expect(out[3]).toMatchObject({ id: 'q', data: { id: 'q', status: 'resolved', by: 'unanswered' } });
    expect(out[4]).toMatchObject({
      id: 'never-asked',
      data: { tool: 'unknown', status: 'resolved', decision: 'deny', by: 'rule' },
    });
  });

  it('a timed-out run: parts closed, metadata, the error chunk, finish with reason error; nothing after', () => {
    const out = chunks([
      { type: 'reasoning', text: 'thinking' },
      {
        type: 'run.completed',
        result: result({ status: 'timed_out', error: { code: 'TIMED_OUT', message: 'The run exceeded its timeout' } }),
      },
      { type: 'message', text: 'late' },
    ]).slice(2);
    expect(types(out)).toEqual([
      'reasoning-start',
      'reasoning-delta',
      'reasoning-end',
      'message-metadata',
      'finish-step',
      'error',
      'finish',
    ]);
    expect(out.at(-2)).toEqual({ type: 'error', errorText: 'TIMED_OUT: The run exceeded its timeout' });
    expect(out.at(-1)).toEqual({ type: 'finish', finishReason: 'error' });
    expect(out[3]).toMatchObject({ messageMetadata: { forge: { status: 'timed_out', durationMs: 5 } } });
  });

  it('sendFinish: false ends with the step, for a stream that goes on', () => {
    const out = chunks([{ type: 'run.completed', result: result() }], { sendFinish: false, sendMetadata: false });
    expect(types(out)).toEqual(['start', 'start-step', 'finish-step']);
  });

  it('usage and log events add no chunks; the structured output lands in the final metadata', () => {
    const out = chunks([
      { type: 'usage', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      { type: 'log', text: 'debug line' },
      { type: 'run.completed', result: result({ output: { ok: true }, costUsd: 0.01, sessionId: 's' }) },
    ]).slice(2);
    expect(out[0]).toEqual({
      type: 'message-metadata',
      messageMetadata: {
        forge: {
          runId: 'run_1',
          provider: 'p',
          status: 'completed',
          usage: result().usage,
          durationMs: 5,
          sessionId: 's',
          costUsd: 0.01,
          output: { ok: true },
        },
      },
    });
  });
});
