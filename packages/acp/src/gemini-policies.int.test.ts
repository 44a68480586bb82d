import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEventOf, CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { expectUnansweredPermissionDenied } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geminiCli } from './presets.js';
import { alive, ofType, trackingRunner } from './test-support/int-rig.js';
import {
  type FakeGeminiApi,
  type FakeGeminiResponder,
  fakeGeminiEnv,
  geminiBinPath,
  startFakeGeminiApi,
} from './testing/index.js';

/** Short, so the deadline case stays fast. */
const DEADLINE_MS = 150;
const LIMIT = { timeout: 60_000 };
/** The words every repair prompt of core starts with. */
const REPAIR_MARKER = 'did not match the required JSON Schema';

const verdictSchema = {
  type: 'object',
  properties: { verdict: { enum: ['approve', 'reject'] }, score: { type: 'number' } },
  required: ['verdict', 'score'],
};

/**
 * The run policies core enforces (issue 23) and its emulated structured output with the repair turn (issue 21),
 * with the real Gemini CLI 0.61.0 (`gemini --acp`) against the fake Gemini API. One process serves every test.
 * Gemini declares approvals (on `session/request_permission`) but neither questions (nothing maps to them) nor
 * budgets (usage comes with the prompt's answer only), so those fields are refused before any work.
 */
describe('geminiCli run policies with the real gemini CLI against a fake Gemini API', () => {
  let api: FakeGeminiApi;
  let scratch: string;
  let work: string;
  let agent: CodeAgent;
  const runner = trackingRunner();
  let respond: FakeGeminiResponder = () => ({ text: 'unset' });
  const turns = () => api.requests.filter((r) => r.action === 'streamGenerateContent');

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-gemini-policies-'));
    work = join(scratch, 'work');
    await mkdir(work);
    api = await startFakeGeminiApi({ respond: (r) => respond(r) });
    const env = await fakeGeminiEnv(api.url, join(scratch, 'home'));
    agent = geminiCli({ bin: geminiBinPath(), runner, cwd: work, env, initializeTimeoutMs: 60_000 });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  afterAll(async () => {
    await agent?.close?.();
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(runner.spawned.filter((p) => alive(p.pid))).toEqual([]);
  });

  /** Writes `name` with Gemini's write_file (it asks as `edit`), then says it is done. */
  const writes = (name: string): FakeGeminiResponder => {
    return (req) =>
      req.hasFunctionResponse
        ? { text: 'The tool is done.' }
        : { functionCall: { name: 'write_file', args: { file_path: name, content: `${name}\n` } } };
  };
  const written = (name: string) => readFile(join(work, name), 'utf8').catch(() => undefined);

  it('a rule that allows answers without asking the host: the file is written', LIMIT, async () => {
    respond = writes('rule-allowed.txt');
    const run = agent.execute({
      prompt: 'write a file',
      approvals: { rules: [{ tool: 'edit', decision: 'allow' }], default: 'deny' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'allow', by: 'rule' }]);
    expect(await written('rule-allowed.txt')).toBe('rule-allowed.txt\n');
  });

  it('a rule that denies answers without asking the host: nothing is written', LIMIT, async () => {
    respond = writes('rule-denied.txt');
    const run = agent.execute({
      prompt: 'write a file',
      approvals: { rules: [{ tool: 'edit', decision: 'deny' }], default: 'allow' },
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')).toEqual([]);
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ decision: 'deny', by: 'rule' }]);
    expect(await written('rule-denied.txt')).toBeUndefined();
  });

  it('a rule that says ask reaches the host, whose answer is recorded as by host', LIMIT, async () => {
    respond = writes('asked.txt');
    const run = agent.execute({
      prompt: 'write a file',
      approvals: { rules: [{ tool: 'edit', decision: 'ask' }], default: 'deny' },
    });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
    expect(asked.tool).toBe('edit');
    expect(run.pending().map((e) => e.id)).toEqual([asked.id]);
    await run.respond(asked.id, 'allow');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.resolved')).toMatchObject([{ id: asked.id, decision: 'allow', by: 'host' }]);
    expect(await written('asked.txt')).toBe('asked.txt\n');
    expect(run.pending()).toEqual([]);
  });

  it('an unanswered permission is denied after afterMs and the run goes on', LIMIT, async () => {
    respond = writes('unanswered.txt');
    const run = agent.execute({
      prompt: 'write a file',
      approvals: { unanswered: { afterMs: DEADLINE_MS, decision: 'deny' } },
    });
    await expectUnansweredPermissionDenied(run, DEADLINE_MS);
    expect(await written('unanswered.txt')).toBeUndefined();
    expect(run.pending()).toEqual([]);
  });

  it('a budget and a question deadline are refused before any work (UNSUPPORTED_FIELD)', () => {
    expect(() => agent.execute({ prompt: 'x', budget: { maxTokens: 10 } })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }),
    );
    expect(() =>
      agent.execute({ prompt: 'x', questions: { unanswered: { afterMs: DEADLINE_MS, action: 'cancel' } } }),
    ).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }));
    expect(api.requests).toEqual([]);
  });

  /** Answers `first` as JSON text until core's repair prompt arrives, then `repaired`. */
  const repairs = (first: unknown, repaired: unknown): FakeGeminiResponder => {
    let repairing = false;
    return (req) => {
      if (req.lastUserText.includes(REPAIR_MARKER)) repairing = true;
      return { text: JSON.stringify(repairing ? repaired : first) };
    };
  };

  it('structured output (emulated): an answer that does not match is repaired in the same session', LIMIT, async () => {
    const good = { verdict: 'approve', score: 1 };
    respond = repairs({ verdict: 'maybe' }, good);
    const run = agent.execute({ prompt: 'review this', outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: good });
    // The first prompt carries core's instruction; the repair turn continues the same conversation.
    expect(turns()[0]!.lastUserText).toContain('Answer with only a JSON value');
    const repair = turns().find((t) => t.lastUserText.includes(REPAIR_MARKER))!;
    expect(JSON.stringify(repair.body.contents)).toContain('review this');
    expect(new Set(ofType(events, 'session.started').map((e) => e.sessionId)).size).toBe(1);
  });

  it('structured output (emulated): an answer that never matches fails OUTPUT_SCHEMA_MISMATCH', LIMIT, async () => {
    respond = repairs({ verdict: 'maybe' }, { verdict: 'still maybe' });
    const run = agent.execute({ prompt: 'review this', outputSchema: verdictSchema });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_SCHEMA_MISMATCH' } });
    expect(result.error!.message).toContain('after 1 repair turn');
    expect(result.output).toBeUndefined();
  });
});
