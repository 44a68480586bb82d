import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEventOf } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { expectUnansweredPermissionDenied } from '@forge/core/testing/conformance';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';
import { outputRepairScenario, runawayScenario } from './testing/index.js';

/** Short, so the deadline cases stay fast; the CLI answers a denial within the same run. */
const DEADLINE_MS = 150;

const verdictSchema = {
  type: 'object',
  properties: { verdict: { enum: ['approve', 'reject'] }, score: { type: 'number' } },
  required: ['verdict', 'score'],
};

/**
 * The run policies core enforces (issue 23) and its structured-output repair (issue 21), with the real CLI
 * against the fake Messages API: approval rules answer before the host, deadlines, budgets stopping a runaway
 * with the session kept, and an answer that does not match `outputSchema` repaired in the same session.
 */
describe('claudeCode run policies with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, turns, toolResult, ofType } = rig;

  const writeOf = (name: string) => ({
    toolUse: { name: 'Write', input: { file_path: join(rig.scratch, name), content: `${name}\n` } },
  });
  const exists = (name: string) =>
    stat(join(rig.scratch, name)).then(
      () => true,
      () => false,
    );
  /** Writes `name`, then says what the tool answered. */
  const writeThenEcho = (name: string) => (req: { hasToolResult: boolean; body: unknown }) =>
    req.hasToolResult ? { text: `Tool said: ${toolResult(req)}` } : writeOf(name);

  it('a rule that allows answers without asking the host: the tool runs', async () => {
    rig.responder = writeThenEcho('rule-allowed.txt');
    const run = agent().execute({
      prompt: 'write a file',
      approvals: { rules: [{ tool: 'Write', decision: 'allow' }], default: 'deny' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'allow', by: 'rule' }]);
    expect(await exists('rule-allowed.txt')).toBe(true);
  });

  it('a rule on an input field denies without asking the host: the model gets the denial and goes on', async () => {
    rig.responder = writeThenEcho('.env');
    const run = agent().execute({
      prompt: 'write the secrets',
      approvals: { rules: [{ tool: 'Write', input: { file_path: '*.env' }, decision: 'deny' }], default: 'allow' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'deny', by: 'rule' }]);
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true });
    expect(result.text).toContain("denied by a rule of the run's approvals (Write)");
    expect(await exists('.env')).toBe(false);
  });

  it('a rule that says ask reaches the host, whose answer is recorded as by host', async () => {
    rig.responder = writeThenEcho('asked.txt');
    const run = agent().execute({
      prompt: 'write a file',
      approvals: {
        rules: [
          { tool: 'Bash', decision: 'allow' },
          { tool: 'Write', decision: 'ask' },
        ],
        default: 'deny',
      },
    });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
    expect(asked).toMatchObject({ tool: 'Write' });
    expect(run.pending().map((e) => e.id)).toEqual([asked.id]);
    await run.respond(asked.id, 'allow');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: asked.id, decision: 'allow', by: 'host' }]);
    expect(await exists('asked.txt')).toBe(true);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered permission is denied after afterMs and the run goes on', async () => {
    rig.responder = writeThenEcho('unanswered.txt');
    const run = agent().execute({
      prompt: 'write a file',
      approvals: { unanswered: { afterMs: DEADLINE_MS, decision: 'deny' } },
    });
    const { result } = await expectUnansweredPermissionDenied(run, DEADLINE_MS);
    expect(result.text).toContain(`was not answered within ${DEADLINE_MS} ms`);
    expect(await exists('unanswered.txt')).toBe(false);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered question cancels the run, and the session goes on afterwards', async () => {
    rig.responder = (req) =>
      req.lastUserText.includes('go on')
        ? { text: 'Going on without an answer.' }
        : {
            toolUse: {
              name: 'AskUserQuestion',
              input: {
                questions: [
                  {
                    question: 'Which one?',
                    header: 'Pick',
                    multiSelect: false,
                    options: [
                      { label: 'A', description: 'first' },
                      { label: 'B', description: 'second' },
                    ],
                  },
                ],
              },
            },
          };
    const a = agent();
    const run = a.execute({ prompt: 'ask me', questions: { unanswered: { afterMs: DEADLINE_MS, action: 'cancel' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    const asked = ofType(events, 'question.requested')[0]!;
    expect(ofType(events, 'question.resolved')).toMatchObject([{ id: asked.id, by: 'unanswered' }]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    expect(run.pending()).toEqual([]);
    const next = await collectRun(a.execute({ prompt: 'go on', sessionId: result.sessionId! }));
    expect(next.result).toMatchObject({ status: 'completed', text: 'Going on without an answer.' });
  });

  /** A model that runs `echo step-N` for ever, until the prompt says "what happened". */
  const runaway = () =>
    runawayScenario(
      'Bash',
      (n) => ({ command: `echo step-${n}`, description: `step ${n}` }),
      (req) => req.lastUserText.includes('what happened'),
    );

  /** Resumes a stopped run's session and checks that the model sees the steps it took before the stop. */
  const resumeSeesHistory = async (sessionId: string, steps: number) => {
    rig.api.requests.length = 0;
    const next = await collectRun(agent().execute({ prompt: 'what happened?', sessionId }));
    expect(next.result).toMatchObject({ status: 'completed', sessionId });
    const seen = JSON.stringify(turns().at(-1)!.body.messages);
    for (let n = 1; n <= steps; n++) expect(seen).toContain(`step-${n}`);
  };

  it('maxTokens stops a tool-calling runaway mid-run, failed BUDGET_EXCEEDED, with the session resumable', async () => {
    rig.responder = runaway();
    const run = agent().execute({
      prompt: 'loop',
      approvals: { rules: [{ tool: 'Bash', input: { command: 'echo *' }, decision: 'allow' }] },
      // The fake counts ~2,300 tokens a turn here (the conversation so far, re-sent each turn): 4–5 turns go over.
      budget: { maxTokens: 10_000 },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
    expect(result.error!.message).toMatch(/maxTokens 10000/);
    const steps = ofType(events, 'tool.call').length;
    expect(steps).toBeGreaterThan(1);
    expect(ofType(events, 'error').find((e) => e.code === 'BUDGET_EXCEEDED')?.details).toMatchObject({
      budget: { maxTokens: 10_000 },
    });
    expect(result.sessionId).toMatch(/\S/);
    await resumeSeesHistory(result.sessionId!, steps - 1);
  });

  // `budget.maxTurns` is also passed as the CLI's own `--max-turns`, which stops the run first here (its
  // error_max_turns becomes BUDGET_EXCEEDED); core's count of usage events is the backstop.
  it('maxTurns stops a tool-calling runaway, failed BUDGET_EXCEEDED, with the session resumable', async () => {
    rig.responder = runaway();
    const run = agent().execute({ prompt: 'loop', allowedTools: ['Bash'], budget: { maxTurns: 3 } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
    const steps = ofType(events, 'tool.call').length;
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(steps).toBeLessThanOrEqual(4);
    await resumeSeesHistory(result.sessionId!, 3);
  });

  // The CLI reports no cost per message, so core prices its tokens from the agent's `pricing` ($1,000 per million
  // here: ~$2.30 a turn, so core's count goes over first; the CLI's own `--max-budget-usd`, passed too, prices
  // the stand-in model far lower and would stop the run later, as the same BUDGET_EXCEEDED).
  it('maxCostUsd (priced by the agent) stops a tool-calling runaway, with the session resumable', async () => {
    rig.responder = runaway();
    const run = agent({}, { pricing: { '*': { inputPerMTokUsd: 1_000, outputPerMTokUsd: 1_000 } } }).execute({
      prompt: 'loop',
      allowedTools: ['Bash'],
      budget: { maxCostUsd: 5 },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
    expect(result.error!.message).toMatch(/of maxCostUsd \$5\.0000/);
    const steps = ofType(events, 'tool.call').length;
    expect(steps).toBeGreaterThan(1);
    await resumeSeesHistory(result.sessionId!, steps - 1);
  });

  it('structured output: an answer that does not match is repaired in the same session', async () => {
    const good = { verdict: 'approve', score: 1 };
    rig.responder = outputRepairScenario({ verdict: 'maybe' }, good);
    const run = agent().execute({ prompt: 'review this', outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual(good);
    expect(ofType(events, 'session.started').map((e) => e.sessionId)).toEqual(
      expect.arrayContaining([result.sessionId]),
    );
    expect(new Set(ofType(events, 'session.started').map((e) => e.sessionId)).size).toBe(1);
    const repair = turns().find((t) => t.lastUserText.includes('did not match the required JSON Schema'))!;
    expect(repair.lastUserText).toMatch(/verdict|score/);
    // The repair turn continues the conversation: the first prompt is in its history.
    expect(JSON.stringify(repair.body.messages)).toContain('review this');
  });

  it('structured output: an answer that never matches fails OUTPUT_SCHEMA_MISMATCH after the repair turn', async () => {
    rig.responder = outputRepairScenario({ verdict: 'maybe' }, { verdict: 'still maybe' });
    const run = agent().execute({ prompt: 'review this', outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(result.error!.message).toContain('after 1 repair turn');
    expect(result.output).toBeUndefined();
    expect(result.sessionId).toMatch(/\S/);
  });
});
