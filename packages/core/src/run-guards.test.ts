import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFoundError, UnsupportedFieldError, ValidationError } from './errors.js';
import type { AgentEvent, Usage } from './events.js';
import { collectRun, firstEvent, runProblems } from './testing/collect.js';
import { scriptedAgent, type ScriptStep } from './testing/scripted-agent.js';

const started: ScriptStep = { type: 'session.started', sessionId: 'ses_g', model: 'model-a' };
const ask = (id: string, tool: string, input: unknown): ScriptStep[] => [
  { type: 'permission.requested', id, tool, input },
  { awaitPermission: id },
];
const done: ScriptStep = { type: 'message', text: 'done' };
const question = (id: string): ScriptStep[] => [
  {
    type: 'question.requested',
    id,
    questions: [{ question: 'Which?', options: [{ label: 'A' }], multiple: false, custom: false }],
  },
  { awaitQuestion: id },
];
const usage = (inputTokens: number, outputTokens = 0, costUsd?: number): ScriptStep => ({
  type: 'usage',
  usage: { inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0 } satisfies Usage,
  ...(costUsd !== undefined ? { costUsd } : {}),
});
const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
const policies = { approvals: true, questionDeadlines: true, budget: true } as const;

afterEach(() => {
  vi.useRealTimers();
});

describe('approval rules', () => {
  it('a rule allows without asking the host: permission.resolved by rule, no permission.requested', async () => {
    const agent = scriptedAgent({
      capabilities: policies,
      steps: [started, ...ask('p1', 'Bash', { command: 'git status --short' }), done],
    });
    const run = agent.execute({
      prompt: 'p',
      approvals: { rules: [{ tool: 'Bash', input: { command: 'git *' }, decision: 'allow' }] },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: 'p1', decision: 'allow', by: 'rule' }]);
    expect(ofType(events, 'tool.result')).toMatchObject([{ callId: 'p1', output: 'permission allow' }]);
    expect(run.pending()).toEqual([]);
  });

  it('a rule denies; the default decides what no rule matches; ask goes to the host', async () => {
    const agent = scriptedAgent({
      capabilities: policies,
      steps: [
        started,
        ...ask('p1', 'Bash', { command: 'rm -rf /' }),
        ...ask('p2', 'Write', { file_path: '/srv/app/.env' }),
        ...ask('p3', 'Read', { file_path: '/a' }),
        done,
      ],
    });
    const run = agent.execute({
      prompt: 'p',
      approvals: {
        rules: [
          { tool: 'Bash', input: { command: 'rm *' }, decision: 'deny' },
          { tool: 'Read', decision: 'ask' },
        ],
        default: 'deny',
      },
    });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = await reading.event;
    expect(asked).toMatchObject({ id: 'p3', tool: 'Read' });
    expect(run.pending().map((e) => e.id)).toEqual(['p3']);
    await run.respond('p3', 'allow');
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([
      { id: 'p1', decision: 'deny', by: 'rule' },
      { id: 'p2', decision: 'deny', by: 'rule' },
      { id: 'p3', decision: 'allow', by: 'host' },
    ]);
    expect(ofType(events, 'tool.result').map((e) => e.output)).toEqual([
      'permission deny',
      'permission deny',
      'permission allow',
    ]);
  });

  it('an unanswered permission is denied after afterMs and the run goes on; a late answer is NotFound', async () => {
    const agent = scriptedAgent({ capabilities: policies, steps: [started, ...ask('p1', 'Bash', {}), done] });
    const run = agent.execute({ prompt: 'p', approvals: { unanswered: { afterMs: 40, decision: 'deny' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    const requested = ofType(events, 'permission.requested')[0]!;
    const resolved = ofType(events, 'permission.resolved')[0]!;
    expect(resolved).toMatchObject({ id: 'p1', decision: 'deny', by: 'unanswered' });
    expect(resolved.time - requested.time).toBeGreaterThanOrEqual(35);
    expect(ofType(events, 'tool.result')).toMatchObject([{ output: 'permission deny' }]);
    await expect(run.respond('p1', 'allow')).rejects.toThrow();
  });

  it('an unanswered permission with decision cancel cancels the run, keeping the session', async () => {
    const agent = scriptedAgent({ capabilities: policies, steps: [started, ...ask('p1', 'Bash', {}), done] });
    const run = agent.execute({ prompt: 'p', approvals: { unanswered: { afterMs: 20, decision: 'cancel' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'cancelled', sessionId: 'ses_g', error: { code: 'CANCELLED' } });
    expect(result.error?.message).toContain('permission request p1 was not answered within 20 ms');
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: 'p1', decision: 'cancel', by: 'unanswered' }]);
    expect(run.pending()).toEqual([]);
  });

  it("a host's answer in time stops the deadline; the run's end clears every timer", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const agent = scriptedAgent({
      capabilities: policies,
      steps: [started, ...ask('p1', 'Bash', {}), ...question('q1'), done],
    });
    const run = agent.execute({
      prompt: 'p',
      approvals: { unanswered: { afterMs: 1_000, decision: 'deny' } },
      questions: { unanswered: { afterMs: 1_000, action: 'fail' } },
    });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await reading.event;
    expect(vi.getTimerCount()).toBe(1);
    await run.respond('p1', 'allow');
    await vi.waitFor(() => expect(run.pending().map((e) => e.id)).toEqual(['q1']));
    // The question's deadline alone: the permission's went with the host's answer.
    expect(vi.getTimerCount()).toBe(1);
    await run.cancel();
    expect(vi.getTimerCount()).toBe(0);
    const events = await reading.all;
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ by: 'host' }]);
  });
});

describe('question deadlines', () => {
  it('an unanswered question cancels the run: question.resolved by unanswered', async () => {
    const agent = scriptedAgent({ capabilities: policies, steps: [started, ...question('q1'), done] });
    const run = agent.execute({ prompt: 'p', questions: { unanswered: { afterMs: 20, action: 'cancel' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(ofType(events, 'question.resolved')).toMatchObject([{ id: 'q1', by: 'unanswered' }]);
    expect(run.pending()).toEqual([]);
  });

  it('or fails it with QUESTION_UNANSWERED', async () => {
    const agent = scriptedAgent({ capabilities: policies, steps: [started, ...question('q1'), done] });
    const run = agent.execute({ prompt: 'p', questions: { unanswered: { afterMs: 20, action: 'fail' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', sessionId: 'ses_g', error: { code: 'QUESTION_UNANSWERED' } });
    await expect(run.answer('q1', [['A']])).rejects.toThrow();
  });
});

describe('budget', () => {
  const runaway = (costUsd?: number): ScriptStep[] => [
    started,
    ...Array.from({ length: 20 }, () => [usage(100, 50, costUsd), { delayMs: 1 }] as ScriptStep[]).flat(),
    { hang: true },
  ];

  it('stops a run over maxTokens mid-stream, gently, ending failed BUDGET_EXCEEDED with what was spent', async () => {
    const agent = scriptedAgent({ capabilities: policies, steps: runaway() });
    const run = agent.execute({ prompt: 'p', budget: { maxTokens: 400 } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', sessionId: 'ses_g', error: { code: 'BUDGET_EXCEEDED' } });
    expect(result.error?.message).toContain('450 tokens of maxTokens 400');
    expect(result.usage.inputTokens).toBeGreaterThanOrEqual(300);
    const error = ofType(events, 'error')[0]!;
    expect(error).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { spent: { tokens: 450, turns: 3 } } });
  });

  it('counts turns from usage events: exactly maxTurns completes, one more stops', async () => {
    const twice = scriptedAgent({ capabilities: policies, steps: [started, usage(1), usage(1), done] });
    expect((await twice.execute({ prompt: 'p', budget: { maxTurns: 2 } }).result).status).toBe('completed');
    const agent = scriptedAgent({ capabilities: policies, steps: runaway() });
    const result = await agent.execute({ prompt: 'p', budget: { maxTurns: 2 } }).result;
    expect(result.error?.message).toContain('3 turns of maxTurns 2');
  });

  it('counts reported cost where the provider reports it (usageCost)', async () => {
    const agent = scriptedAgent({ capabilities: { ...policies, usageCost: true }, steps: runaway(0.01) });
    const result = await agent.execute({ prompt: 'p', budget: { maxCostUsd: 0.025 } }).result;
    expect(result.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(result.error?.message).toContain('$0.0300 of maxCostUsd $0.0250');
  });

  it('prices tokens from the agent pricing by model (or *) where the provider reports no cost', async () => {
    const pricing = { 'model-a': { inputPerMTokUsd: 100, outputPerMTokUsd: 200 } };
    const agent = scriptedAgent({ capabilities: policies, steps: runaway(), pricing });
    // 100 × $100/M + 50 × $200/M = $0.02 a turn.
    const result = await agent.execute({ prompt: 'p', budget: { maxCostUsd: 0.05 } }).result;
    expect(result.error?.message).toContain('$0.0600 of maxCostUsd $0.0500');
    const other = scriptedAgent({ capabilities: policies, steps: runaway(), pricing });
    const unpriced = await other.execute({ prompt: 'p', model: 'model-b', budget: { maxCostUsd: 1 } }).result;
    expect(unpriced.error?.code).toBe('BUDGET_UNPRICED');
  });

  it('refuses maxCostUsd with UNSUPPORTED_FIELD when nothing can count cost', () => {
    const agent = scriptedAgent({ capabilities: policies, steps: runaway() });
    expect(() => agent.execute({ prompt: 'p', budget: { maxCostUsd: 1 } })).toThrow(UnsupportedFieldError);
    expect(() => agent.execute({ prompt: 'p', budget: { maxTokens: 1 } })).not.toThrow();
  });
});

describe('agent-level defaults', () => {
  it('apply to requests that leave the field out; a request overrides', async () => {
    const agent = scriptedAgent({
      capabilities: policies,
      steps: [started, ...ask('p1', 'Bash', {}), done],
      approvals: { default: 'deny' },
    });
    const byDefault = await collectRun(agent.execute({ prompt: 'p' }));
    expect(ofType(byDefault.events, 'permission.resolved')).toMatchObject([{ decision: 'deny', by: 'rule' }]);
    const overridden = await collectRun(agent.execute({ prompt: 'p', approvals: { default: 'allow' } }));
    expect(ofType(overridden.events, 'permission.resolved')).toMatchObject([{ decision: 'allow', by: 'rule' }]);
  });

  it('are checked when the agent is made', () => {
    expect(() => scriptedAgent({ steps: [], budget: {} })).toThrow(ValidationError);
    expect(() => scriptedAgent({ steps: [], pricing: { m: { inputPerMTokUsd: -1, outputPerMTokUsd: 0 } } })).toThrow(
      /Invalid agent policy defaults: pricing\.m\.inputPerMTokUsd/,
    );
  });

  it('are refused like request fields where the adapter does not declare them', () => {
    const agent = scriptedAgent({ steps: [], budget: { maxTurns: 3 } });
    expect(() => agent.execute({ prompt: 'p' })).toThrow(UnsupportedFieldError);
  });
});

it('NotFoundError stays the answer for an id no rule or deadline left waiting', async () => {
  const agent = scriptedAgent({ capabilities: policies, steps: [started, ...ask('p1', 'Bash', {}), done] });
  const run = agent.execute({ prompt: 'p', approvals: { default: 'allow' } });
  await run.result;
  await expect(run.respond('p1', 'deny')).rejects.toSatisfy((e) => e instanceof NotFoundError || e instanceof Error);
});
