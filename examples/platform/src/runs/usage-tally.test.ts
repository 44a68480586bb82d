import type { AgentEvent } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { UsageTally } from './usage-tally.js';

const u = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});
const usage = (i: number, o: number, costUsd?: number) =>
  ({
    type: 'usage',
    runId: 'r',
    seq: 1,
    time: 0,
    usage: u(i, o),
    ...(costUsd !== undefined ? { costUsd } : {}),
  }) as AgentEvent;
const completed = (i: number, o: number, costUsd?: number) =>
  ({
    type: 'run.completed',
    runId: 'r',
    seq: 9,
    time: 0,
    result: {
      status: 'completed',
      text: '',
      usage: u(i, o),
      durationMs: 1,
      turns: 1,
      ...(costUsd !== undefined ? { costUsd } : {}),
    },
  }) as AgentEvent;

describe('UsageTally', () => {
  it('counts usage events as they come, and only the cost the result adds beyond them', () => {
    const t = new UsageTally();
    expect(t.observe(usage(10, 5, 0.01))).toEqual({ tokensIn: 10, tokensOut: 5, costUsd: 0.01 });
    t.observe(usage(1, 1));
    // The result repeats the run's totals: its tokens are not counted twice; its cost adds what the events lacked.
    expect(t.observe(completed(11, 6, 0.03))).toEqual({ tokensIn: 0, tokensOut: 0, costUsd: expect.closeTo(0.02, 10) });
    expect(t.total).toEqual({ tokensIn: 11, tokensOut: 6, costUsd: expect.closeTo(0.03, 10) });
  });

  it('counts a run that sent no usage event from its result', () => {
    const t = new UsageTally();
    t.observe({ type: 'message', runId: 'r', seq: 1, time: 0, text: 'hi' } as AgentEvent);
    t.observe(completed(7, 3, 0.5));
    expect(t.total).toEqual({ tokensIn: 7, tokensOut: 3, costUsd: 0.5 });
  });
});
