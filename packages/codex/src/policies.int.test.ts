import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEventOf } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { expectUnansweredPermissionDenied } from '@forge/core/testing/conformance';
import { describe, expect, it } from 'vitest';
import { ofType, useRealAppServer } from './test-support/real-app-server.js';
import { outputRepairScenario, REPAIR_MARKER, runawayScenario } from './testing/index.js';

/** Short, so the deadline cases stay fast. */
const DEADLINE_MS = 150;
const LIMIT = { timeout: 60_000 };

const verdictSchema = {
  type: 'object',
  properties: { verdict: { enum: ['approve', 'reject'] }, score: { type: 'number' } },
  required: ['verdict', 'score'],
  additionalProperties: false,
};

/**
 * The run policies core enforces (issue 23) and its structured-output repair (issue 21), with the real CLI
 * (0.171.0) as `codex app-server` against the fake Responses API. One app server serves every test that needs no
 * fresh one (`h.shared`); questions exist only in Codex's Plan mode, so those use a second, Plan-mode agent.
 * Budgets: the app server reports each model call's tokens as it ends (`thread/tokenUsage/updated`), so a budget
 * stops a turn whose model keeps calling tools between two calls, not at the turn's end (which never comes).
 */
describe('codex app-server run policies with the real CLI against a fake Responses API', () => {
  const h = useRealAppServer();
  const agent = () => h.shared('default');
  const planAgent = () => h.shared('plan', { permissionMode: 'plan' });

  /** Runs `command`, then says what it printed (or that it was refused). */
  const shellThenEcho = (command: string) =>
    h.respond((req) =>
      req.hasToolOutput ? { text: `Tool said: ${req.toolOutput.trim() || '(nothing)'}` } : { shell: command },
    );
  const exists = (path: string) =>
    readFile(path).then(
      () => true,
      () => false,
    );

  it('a rule that allows answers without asking the host: the command runs', LIMIT, async () => {
    shellThenEcho('echo ruled-ok');
    const run = agent().execute({
      prompt: 'run echo',
      approvals: {
        rules: [{ tool: 'Bash', input: { command: '*echo ruled-ok*' }, decision: 'allow' }],
        default: 'deny',
      },
      timeoutMs: 60_000,
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Tool said: ruled-ok' });
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'allow', by: 'rule' }]);
  });

  it(
    'a rule that denies answers without asking the host: the command never runs and the model goes on',
    LIMIT,
    async () => {
      const marker = join(h.scratch, `rule-denied-${Date.now()}`);
      shellThenEcho(`touch ${marker}`);
      const run = agent().execute({
        prompt: 'touch it',
        approvals: { rules: [{ tool: 'Bash', input: { command: '*touch *' }, decision: 'deny' }], default: 'allow' },
        timeoutMs: 60_000,
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(ofType(events, 'permission.requested')).toEqual([]);
      expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'deny', by: 'rule' }]);
      expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true });
      expect(await exists(marker)).toBe(false);
    },
  );

  it('a rule that says ask reaches the host, whose answer is recorded as by host', LIMIT, async () => {
    shellThenEcho('echo asked');
    const run = agent().execute({
      prompt: 'run echo',
      approvals: { rules: [{ tool: 'Bash', decision: 'ask' }], default: 'deny' },
      timeoutMs: 60_000,
    });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
    expect(asked.tool).toBe('Bash');
    expect(run.pending().map((e) => e.id)).toEqual([asked.id]);
    await run.respond(asked.id, 'allow');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result).toMatchObject({ status: 'completed', text: 'Tool said: asked' });
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: asked.id, decision: 'allow', by: 'host' }]);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered permission is denied after afterMs and the run goes on', LIMIT, async () => {
    const marker = join(h.scratch, `unanswered-${Date.now()}`);
    shellThenEcho(`touch ${marker}`);
    const run = agent().execute({
      prompt: 'touch it',
      approvals: { unanswered: { afterMs: DEADLINE_MS, decision: 'deny' } },
      timeoutMs: 60_000,
    });
    const { events } = await expectUnansweredPermissionDenied(run, DEADLINE_MS);
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true });
    expect(await exists(marker)).toBe(false);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered question (Plan mode) cancels the run, and the thread goes on afterwards', LIMIT, async () => {
    h.respond((req) =>
      req.lastUserText.includes('go on')
        ? { text: 'Going on without an answer.' }
        : {
            call: {
              name: 'request_user_input',
              arguments: {
                questions: [
                  {
                    id: 'pick',
                    header: 'Pick',
                    question: 'Which one?',
                    options: [
                      { label: 'A', description: 'first' },
                      { label: 'B', description: 'second' },
                    ],
                  },
                ],
              },
            },
          },
    );
    const a = planAgent();
    const run = a.execute({
      prompt: 'ask me',
      questions: { unanswered: { afterMs: DEADLINE_MS, action: 'cancel' } },
      timeoutMs: 60_000,
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    const asked = ofType(events, 'question.requested')[0]!;
    expect(ofType(events, 'question.resolved')).toMatchObject([{ id: asked.id, by: 'unanswered' }]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    expect(run.pending()).toEqual([]);
    const next = await collectRun(a.execute({ prompt: 'go on', sessionId: result.sessionId!, timeoutMs: 60_000 }));
    expect(next.result).toMatchObject({ status: 'completed', text: 'Going on without an answer.' });
  });

  /** A model that runs `echo step-N` for ever, until the prompt says "what happened"; every command allowed. */
  const runaway = () =>
    h.respond(
      runawayScenario(
        (n) => `echo step-${n}`,
        (req) => req.lastUserText.includes('what happened'),
      ),
    );
  const allowEcho = { rules: [{ tool: 'Bash', input: { command: '*echo step-*' }, decision: 'allow' as const }] };

  /**
   * Resumes a stopped run's thread on the agent that ran it and checks that the model sees the steps it took
   * before the stop. (Another agent's app server could not take it: Codex answers "already has an active writer"
   * while the first server holds the thread.)
   */
  const resumeSeesHistory = async (sessionId: string, steps: number, on = agent()) => {
    h.api.requests.length = 0;
    const next = await collectRun(on.execute({ prompt: 'what happened?', sessionId, timeoutMs: 60_000 }));
    expect(next.result).toMatchObject({ status: 'completed', sessionId });
    const seen = JSON.stringify(h.calls().at(-1)!.body.input);
    for (let n = 1; n <= steps; n++) expect(seen).toContain(`step-${n}`);
  };

  it(
    'maxTokens stops a tool-calling runaway mid-turn, failed BUDGET_EXCEEDED, with the thread resumable',
    LIMIT,
    async () => {
      runaway();
      const run = agent().execute({
        prompt: 'loop',
        approvals: allowEcho,
        // The fake counts the whole input each call (~5,400 tokens here, growing): the third call goes over.
        budget: { maxTokens: 12_000 },
        timeoutMs: 30_000,
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
      expect(result.error!.message).toMatch(/maxTokens 12000/);
      const steps = ofType(events, 'tool.call').length;
      expect(steps).toBeGreaterThan(1);
      expect(result.sessionId).toMatch(/\S/);
      await resumeSeesHistory(result.sessionId!, steps - 1);
    },
  );

  it('maxTurns stops a tool-calling runaway, failed BUDGET_EXCEEDED, with the thread resumable', LIMIT, async () => {
    runaway();
    const run = agent().execute({ prompt: 'loop', approvals: allowEcho, budget: { maxTurns: 3 }, timeoutMs: 30_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
    expect(result.error!.message).toMatch(/maxTurns 3/);
    const steps = ofType(events, 'tool.call').length;
    expect(steps).toBeGreaterThanOrEqual(3);
    await resumeSeesHistory(result.sessionId!, 3);
  });

  it(
    'maxCostUsd, priced by the agent (Codex reports no cost), stops a runaway, with the thread resumable',
    LIMIT,
    async () => {
      runaway();
      // ~5,400 tokens a call (Codex's instructions are sent each call) at $100 per million: the third call goes over.
      const priced = h.shared('priced', { pricing: { '*': { inputPerMTokUsd: 100, outputPerMTokUsd: 100 } } });
      const run = priced.execute({
        prompt: 'loop',
        approvals: allowEcho,
        budget: { maxCostUsd: 1.5 },
        timeoutMs: 30_000,
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
      expect(result.error!.message).toMatch(/of maxCostUsd \$1\.5000/);
      const steps = ofType(events, 'tool.call').length;
      expect(steps).toBeGreaterThan(1);
      await resumeSeesHistory(result.sessionId!, steps - 1, priced);
    },
  );

  it(
    'a thread held by the app server of another agent fails SESSION_BUSY on resume, not SESSION_NOT_FOUND',
    LIMIT,
    async () => {
      h.respond(() => ({ text: 'held' }));
      const first = await collectRun(agent().execute({ prompt: 'start a thread', timeoutMs: 60_000 }));
      expect(first.result.status).toBe('completed');
      const other = h.shared('priced');
      const { result } = await collectRun(
        other.execute({ prompt: 'go on', sessionId: first.result.sessionId!, timeoutMs: 60_000 }),
      );
      // The thread exists (a host that read SESSION_NOT_FOUND would start over and lose its history): it is busy.
      expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_BUSY' } });
      expect(result.error!.message).toContain('another Codex process');
    },
  );

  it('structured output: an answer that does not match is repaired in the same thread', LIMIT, async () => {
    const good = { verdict: 'approve', score: 1 };
    h.respond(outputRepairScenario({ verdict: 'maybe' }, good));
    const run = agent().execute({ prompt: 'review this', outputSchema: verdictSchema, timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: good });
    expect(new Set(ofType(events, 'session.started').map((e) => e.sessionId))).toEqual(new Set([result.sessionId]));
    const calls = h.calls();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.lastUserText).toContain(REPAIR_MARKER);
    // The repair turn is held to the schema too, and continues the conversation.
    expect(calls[1]!.outputSchema).toEqual(verdictSchema);
    expect(JSON.stringify(calls[1]!.body.input)).toContain('review this');
  });

  it(
    'structured output: an answer that never matches fails OUTPUT_SCHEMA_MISMATCH after the repair turn',
    LIMIT,
    async () => {
      h.respond(outputRepairScenario({ verdict: 'maybe' }, { verdict: 'still maybe' }));
      const run = agent().execute({ prompt: 'review this', outputSchema: verdictSchema, timeoutMs: 60_000 });
      const { events, result } = await collectRun(run);
      expect(runProblems(events, run.id)).toEqual([]);
      expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
      expect(result.error!.message).toContain('after 1 repair turn');
      expect(result.output).toBeUndefined();
      expect(h.calls()).toHaveLength(2);
    },
  );
});
