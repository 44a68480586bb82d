import type { AgentEvent, AgentResult } from '@forge/core';
import type { Spend } from '@forge/store';
import { describe, expect, it } from 'vitest';
import type { LiveRun } from './live-run.js';
import type { RunContext } from './run-context.js';
import { SpendMeter } from './spend-meter.js';

const usage = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

function meter() {
  const added: Spend[] = [];
  const ctx = {
    now: () => Date.parse('2026-12-07T10:00:00Z'),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    store: {
      keySpend: {
        add: async (_key: string, _day: string, spend: Spend) => {
          added.push(spend);
          return spend;
        },
      },
    },
  } as unknown as RunContext;
  const live = { requestId: 'req_1', settled: false, run: { cancel: async () => {} } } as unknown as LiveRun;
  return { m: new SpendMeter(ctx, live, 'key_1', undefined), added };
}

const completed = (result: Partial<AgentResult>): AgentEvent =>
  ({
    type: 'run.completed',
    runId: 'r',
    seq: 9,
    time: 0,
    result: { status: 'completed', usage: usage(0, 0), ...result },
  }) as AgentEvent;
const usageEvent = (u: ReturnType<typeof usage>, costUsd?: number): AgentEvent =>
  ({
    type: 'usage',
    runId: 'r',
    seq: 1,
    time: 0,
    usage: u,
    ...(costUsd !== undefined ? { costUsd } : {}),
  }) as AgentEvent;

describe('SpendMeter', () => {
  it("charges a result's cost that the usage events did not carry (Claude Code prices only its result)", async () => {
    const { m, added } = meter();
    m.observe(usageEvent(usage(100, 20)));
    m.observe(usageEvent(usage(50, 10)));
    m.observe(completed({ costUsd: 0.25, usage: usage(150, 30) }));
    await m.settled();
    expect(added).toEqual([
      { costUsd: 0, tokens: 120 },
      { costUsd: 0, tokens: 60 },
      { costUsd: 0.25, tokens: 0 },
    ]);
  });

  it('charges a cost once when the usage events carried it (OpenCode)', async () => {
    const { m, added } = meter();
    m.observe(usageEvent(usage(100, 20), 0.1));
    m.observe(completed({ costUsd: 0.1, usage: usage(100, 20) }));
    await m.settled();
    expect(added).toEqual([{ costUsd: 0.1, tokens: 120 }]);
  });

  it('counts a run without usage events from its result', async () => {
    const { m, added } = meter();
    m.observe(completed({ costUsd: 0.05, usage: usage(7, 3) }));
    await m.settled();
    expect(added).toEqual([{ costUsd: 0.05, tokens: 10 }]);
  });
});
