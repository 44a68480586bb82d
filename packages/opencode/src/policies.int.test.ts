import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent, AgentEventOf, AgentRequestInput, CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { expectUnansweredPermissionDenied } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { opencode, startOpencodeServer, type OpencodeServer } from './index.js';
import {
  afterToolResult,
  FAKE_PRICED_MODEL,
  FAKE_PROVIDER,
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  outputRepairReply,
  REPAIR_MARKER,
  runawayReply,
  startFakeOpenAiApi,
  type ChatRequest,
  type FakeOpenAiApi,
  type FakeReply,
} from './testing/index.js';
import { processesLeftUsing } from './test-support/processes-using.js';

/** Short, so the deadline cases stay fast. */
const DEADLINE_MS = 150;
const LIMIT = 60_000;

const verdictSchema = {
  type: 'object',
  properties: { verdict: { enum: ['approve', 'reject'] }, score: { type: 'number' } },
  required: ['verdict', 'score'],
};

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is AgentEventOf<T> => e.type === type);

/**
 * The run policies core enforces (issue 23) and its structured-output repair (issue 21), with the real
 * `opencode serve` against the fake chat-completions API: one server for the file; its sessions ask before
 * `bash` (the agent's permission rules), so core's approval rules and deadlines have requests to answer.
 * OpenCode reports each assistant message's tokens and cost, so `maxCostUsd` is counted from its own figures
 * (the priced fake model costs $1,000 per million tokens).
 */
describe('opencode run policies against the real `opencode serve`', () => {
  let scratch: string;
  let project: string;
  let api: FakeOpenAiApi;
  let server: OpencodeServer;
  let agent: CodeAgent;
  /** The model's behaviour in the current test; title requests (no tools) are answered apart. */
  let scenario: (request: ChatRequest) => FakeReply = () => ({ kind: 'text', text: 'unset' });
  const calls = () => api.requests.filter((r) => r.tools?.length);

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-opencode-policies-'));
    project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    api = await startFakeOpenAiApi({
      reply: (request) => (request.tools?.length ? scenario(request) : { kind: 'text', text: 'Fake title' }),
    });
    server = await startOpencodeServer({
      bin: opencodeBinPath(),
      cwd: project,
      env: isolatedOpencodeEnv(scratch),
      inheritEnv: false,
      config: fakeOpencodeConfig(api.url),
      startTimeoutMs: 60_000,
    });
    agent = opencode({
      baseUrl: server.url,
      directory: project,
      permission: [{ permission: 'bash', pattern: '*', action: 'ask' }],
    });
  }, 90_000);

  beforeEach(() => {
    api.requests.length = 0;
  });

  afterAll(async () => {
    await agent?.close?.();
    await server?.close();
    await api?.close();
    try {
      if (scratch) expect(await processesLeftUsing(scratch)).toEqual([]);
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }, 30_000);

  /** Runs `command` with bash, then says what the tool answered. */
  const bashThenEcho =
    (command: string) =>
    (request: ChatRequest): FakeReply =>
      afterToolResult(request)
        ? { kind: 'text', text: `Tool said: ${String(request.messages.at(-1)!.content).trim()}` }
        : { kind: 'tool', calls: [{ name: 'bash', arguments: { command, description: 'run it' } }] };
  const exists = (name: string) =>
    stat(join(project, name)).then(
      () => true,
      () => false,
    );
  const execute = (prompt: string, extra: Partial<AgentRequestInput> = {}) =>
    agent.execute({ prompt, timeoutMs: 30_000, ...extra });

  it('a rule that allows answers without asking the host: the command runs', { timeout: LIMIT }, async () => {
    scenario = bashThenEcho('echo ruled-ok');
    const run = execute('run it', {
      approvals: { rules: [{ tool: 'bash', input: { command: 'echo *' }, decision: 'allow' }], default: 'deny' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Tool said: ruled-ok' });
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'allow', by: 'rule' }]);
  });

  it('a rule that denies answers without asking the host: the command never runs', { timeout: LIMIT }, async () => {
    scenario = bashThenEcho('touch rule-denied.txt');
    const run = execute('touch it', {
      approvals: { rules: [{ tool: 'bash', input: { command: 'touch *' }, decision: 'deny' }], default: 'allow' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'deny', by: 'rule' }]);
    // OpenCode hands the denial's message to the model as the tool's error, and the turn goes on.
    expect(ofType(events, 'tool.result')).toMatchObject([{ isError: true }]);
    expect(result.status).toBe('completed');
    expect(result.text).toContain("denied by a rule of the run's approvals (bash)");
    expect(await exists('rule-denied.txt')).toBe(false);
  });

  it('a rule that says ask reaches the host, whose answer is recorded as by host', { timeout: LIMIT }, async () => {
    scenario = bashThenEcho('echo asked');
    const run = execute('run it', { approvals: { rules: [{ tool: 'bash', decision: 'ask' }], default: 'deny' } });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
    expect(asked).toMatchObject({ tool: 'bash', input: { command: 'echo asked' } });
    expect(run.pending().map((e) => e.id)).toEqual([asked.id]);
    await run.respond(asked.id, 'allow');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result).toMatchObject({ status: 'completed', text: 'Tool said: asked' });
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: asked.id, decision: 'allow', by: 'host' }]);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered permission is denied after afterMs and the run goes on', { timeout: LIMIT }, async () => {
    scenario = bashThenEcho('touch unanswered.txt');
    const run = execute('touch it', { approvals: { unanswered: { afterMs: DEADLINE_MS, decision: 'deny' } } });
    const { result } = await expectUnansweredPermissionDenied(run, DEADLINE_MS);
    expect(result.text).toContain(`was not answered within ${DEADLINE_MS} ms`);
    expect(await exists('unanswered.txt')).toBe(false);
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered question cancels the run, and the session goes on afterwards', { timeout: LIMIT }, async () => {
    scenario = (request) =>
      lastUserText(request).includes('go on')
        ? { kind: 'text', text: 'Going on without an answer.' }
        : {
            kind: 'tool',
            calls: [
              {
                name: 'question',
                arguments: {
                  questions: [
                    {
                      question: 'Which one?',
                      header: 'Pick',
                      options: [
                        { label: 'A', description: 'first' },
                        { label: 'B', description: 'second' },
                      ],
                    },
                  ],
                },
              },
            ],
          };
    const run = execute('ask me', { questions: { unanswered: { afterMs: DEADLINE_MS, action: 'cancel' } } });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    const asked = ofType(events, 'question.requested')[0]!;
    expect(ofType(events, 'question.resolved')).toMatchObject([{ id: asked.id, by: 'unanswered' }]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toMatch(/\S/);
    expect(run.pending()).toEqual([]);
    const next = await collectRun(execute('go on', { sessionId: result.sessionId! }));
    expect(next.result).toMatchObject({ status: 'completed', text: 'Going on without an answer.' });
  });

  /** Every `echo step-N` allowed by a rule, so the runaway needs no host. */
  const allowSteps = { rules: [{ tool: 'bash', input: { command: 'echo step-*' }, decision: 'allow' as const }] };

  /** Runs a bash runaway under `budget` until it stops; then resumes the session, which sees the steps taken. */
  const runawayStopsAndResumes = async (extra: Partial<AgentRequestInput>, expected: RegExp) => {
    scenario = runawayReply((n) => `echo step-${n}`);
    const run = execute('loop', { approvals: allowSteps, ...extra });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
    expect(result.error!.message).toMatch(expected);
    const steps = ofType(events, 'tool.call').length;
    expect(steps).toBeGreaterThan(1);
    expect(result.sessionId).toMatch(/\S/);

    scenario = (request) => ({ kind: 'text', text: `Resumed after: ${lastUserText(request)}` });
    api.requests.length = 0;
    const next = await collectRun(execute('what happened?', { sessionId: result.sessionId! }));
    expect(next.result).toMatchObject({ status: 'completed', sessionId: result.sessionId });
    const seen = JSON.stringify(calls().at(-1)!.messages);
    for (let n = 1; n < steps; n++) expect(seen).toContain(`step-${n}`);
    return { events, result, steps };
  };

  it('maxTokens stops a bash runaway mid-run, failed BUDGET_EXCEEDED, with the session resumable', {
    timeout: LIMIT,
  }, async () => {
    // The fake reports 15 tokens for its first call and one more for each call after: ~4 calls go over 60.
    await runawayStopsAndResumes({ budget: { maxTokens: 60 } }, /maxTokens 60/);
  });

  it('maxTurns stops a bash runaway, failed BUDGET_EXCEEDED, with the session resumable', {
    timeout: LIMIT,
  }, async () => {
    const { steps } = await runawayStopsAndResumes({ budget: { maxTurns: 3 } }, /maxTurns 3/);
    expect(steps).toBeGreaterThanOrEqual(3);
  });

  it("maxCostUsd stops a bash runaway by OpenCode's own cost figures, with the session resumable", {
    timeout: LIMIT,
  }, async () => {
    // ~$0.016 a call at $1,000 per million tokens: the fourth call goes over $0.05.
    const { events, result } = await runawayStopsAndResumes(
      { model: `${FAKE_PROVIDER}/${FAKE_PRICED_MODEL}`, budget: { maxCostUsd: 0.05 } },
      /maxCostUsd \$0\.0500/,
    );
    const usage = ofType(events, 'usage');
    expect(usage.every((u) => (u.costUsd ?? 0) > 0)).toBe(true);
    // What the stopped run spent is its result's cost (it was missing: a stopped turn returned no outcome).
    expect(result.costUsd).toBeGreaterThan(0.05);
  });

  it('structured output: an answer that does not match is repaired in the same session', {
    timeout: LIMIT,
  }, async () => {
    const good = { verdict: 'approve', score: 1 };
    scenario = outputRepairReply({ verdict: 'maybe' }, good);
    const run = execute('review this', { outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: good });
    const repair = calls().find((r) => JSON.stringify(r.messages.at(-1)).includes(REPAIR_MARKER));
    expect(repair).toBeDefined();
    // The repair turn continues the conversation: the first prompt is in its history.
    expect(JSON.stringify(repair!.messages)).toContain('review this');
  });

  it('structured output: an answer that never matches fails OUTPUT_SCHEMA_MISMATCH after the repair turn', {
    timeout: LIMIT,
  }, async () => {
    scenario = outputRepairReply({ verdict: 'maybe' }, { verdict: 'still maybe' });
    const run = execute('review this', { outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(result.error!.message).toContain('after 1 repair turn');
    expect(result.output).toBeUndefined();
  });
});
