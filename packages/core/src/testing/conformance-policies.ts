import { expect, type TestContext } from 'vitest';
import type { AgentCapabilities, AgentRun, CodeAgent } from '../agent.js';
import type { AgentEvent, AgentEventOf, AgentEventType } from '../events.js';
import type { AgentRequestInput } from '../request.js';
import { collectRun, firstEvent } from './collect.js';
import type { ConformanceScenario } from './conformance.js';

export interface PolicyConformanceContext {
  make(scenario: ConformanceScenario): Promise<CodeAgent>;
  /** `it`, closing the agents each test made when it ends (see AgentsPerTest). */
  it(title: string, options: { timeout: number }, body: (t: TestContext) => Promise<void>): void;
  req(prompt?: string, extra?: Partial<AgentRequestInput>): AgentRequestInput;
  expectSound(events: AgentEvent[], run: AgentRun, provider: string): void;
  /** The `afterMs` of the deadline cases. */
  deadlineMs: number;
  limit: number;
}

const ofType = <T extends AgentEventType>(events: AgentEvent[], type: T) =>
  events.filter((e): e is AgentEventOf<T> => e.type === type);

/**
 * The run policies core enforces (issue 23), for every adapter that declares them: approval rules answer without
 * the host, unanswered requests meet their deadline, a budget stops a run with its session kept.
 */
export function describePolicyConformance(c: PolicyConformanceContext): void {
  const it = c.it;
  const needs = async (
    scenario: ConformanceScenario,
    wanted: (keyof AgentCapabilities)[],
    skip: (note: string) => void,
  ): Promise<CodeAgent> => {
    const agent = await c.make(scenario);
    const caps = await agent.capabilities();
    const missing = wanted.filter((w) => !caps[w]);
    if (missing.length) skip(`${agent.provider} does not declare ${missing.join(', ')}`);
    return agent;
  };

  for (const decision of ['allow', 'deny'] as const) {
    it(`approvals: a rule that says ${decision} answers without asking the host`, { timeout: c.limit }, async (t) => {
      const agent = await needs('permission', ['approvals', 'permissionReplies'], (n) => t.skip(n));
      const run = agent.execute(c.req('conformance check', { approvals: { rules: [{ tool: '*', decision }] } }));
      const { events, result } = await collectRun(run);
      c.expectSound(events, run, agent.provider);
      expect(ofType(events, 'permission.requested')).toEqual([]);
      const resolved = ofType(events, 'permission.resolved');
      expect(resolved.length).toBeGreaterThan(0);
      for (const r of resolved) expect(r).toMatchObject({ decision, by: 'rule' });
      expect(['completed', 'failed']).toContain(result.status);
      if (decision === 'allow') expect(result.status).toBe('completed');
      expect(run.pending()).toEqual([]);
    });
  }

  it('approvals: an unanswered permission is denied after afterMs, pending() lists then clears it, and the run goes on', {
    timeout: c.limit,
  }, async (t) => {
    const agent = await needs('permission', ['approvals', 'permissionReplies'], (n) => t.skip(n));
    const run = agent.execute(
      c.req('conformance check', { approvals: { unanswered: { afterMs: c.deadlineMs, decision: 'deny' } } }),
    );
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
    expect(run.pending().map((e) => e.id)).toContain(asked.id);
    const events = await reading.all;
    c.expectSound(events, run, agent.provider);
    const resolved = ofType(events, 'permission.resolved').find((e) => e.id === asked.id);
    expect(resolved).toMatchObject({ decision: 'deny', by: 'unanswered' });
    // The deadline is not early (a timer may fire a little late on a loaded machine, never 10 % early).
    expect(resolved!.time - asked.time).toBeGreaterThanOrEqual(c.deadlineMs * 0.9);
    const result = await run.result;
    expect(['completed', 'failed']).toContain(result.status);
    expect(run.pending()).toEqual([]);
  });

  it('questions: an unanswered question cancels the run, keeping the session', { timeout: c.limit }, async (t) => {
    const agent = await needs('question', ['questionDeadlines', 'questions'], (n) => t.skip(n));
    const run = agent.execute(
      c.req('conformance check', { questions: { unanswered: { afterMs: c.deadlineMs, action: 'cancel' } } }),
    );
    const { events, result } = await collectRun(run);
    c.expectSound(events, run, agent.provider);
    const asked = ofType(events, 'question.requested')[0];
    expect(asked).toBeDefined();
    expect(ofType(events, 'question.resolved')).toMatchObject([{ id: asked!.id, by: 'unanswered' }]);
    expect(result.status).toBe('cancelled');
    const started = ofType(events, 'session.started')[0];
    if (started) expect(result.sessionId).toBe(started.sessionId);
    expect(run.pending()).toEqual([]);
  });

  it('budget: a run over its budget stops failed BUDGET_EXCEEDED with its session resumable', {
    timeout: c.limit,
  }, async (t) => {
    const agent = await needs('complete', ['budget'], (n) => t.skip(n));
    const run = agent.execute(c.req('conformance check', { budget: { maxTokens: 1 } }));
    const { events, result } = await collectRun(run);
    c.expectSound(events, run, agent.provider);
    const u = result.usage;
    const tokens = u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
    // A double whose scenario reports no tokens has nothing to go over (a real program always reports some).
    if (result.status === 'completed' && tokens <= 1) t.skip(`${agent.provider}'s complete scenario reports no tokens`);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('BUDGET_EXCEEDED');
    expect(ofType(events, 'error').some((e) => e.code === 'BUDGET_EXCEEDED')).toBe(true);
    const caps = await agent.capabilities();
    if (caps.resume && result.sessionId) {
      const again = await agent.execute(c.req('conformance check, continued', { sessionId: result.sessionId })).result;
      expect(again.status).toBe('completed');
    }
  });
}
