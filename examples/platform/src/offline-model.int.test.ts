import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeCode } from '@forge/claude-code';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFLINE_NOTE, offlineResponder } from './offline-model.js';

/**
 * The demo's stand-in model driving the real Claude Code CLI: the steps a person trying the dashboard
 * meets. The permission and question steps need an adapter that answers them (`permissionReplies`,
 * `questions`); on one that does not, they are skipped with a note.
 */
describe('the demo offline model with the real Claude Code CLI', () => {
  let scratch: string;
  let api: FakeAnthropicApi;
  let agent: CodeAgent;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-offline-model-'));
    api = await startFakeAnthropicApi(offlineResponder());
    agent = claudeCode({ bin: claudeBinPath(), env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') } });
  });
  afterAll(async () => {
    await agent?.close?.();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('lists the workspace with Bash ls, which the default permission mode runs without asking', async () => {
    const run = agent.execute({ prompt: 'What is in my workspace?', cwd: scratch, timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(events.some((e) => e.type === 'permission.requested')).toBe(false);
    expect(result.status).toBe('completed');
    expect(result.text).toContain('Your workspace holds');
  }, 90_000);

  it('asks before writing a note: Approve writes it', async (t) => {
    if (!(await agent.capabilities()).permissionReplies)
      t.skip('this claude-code adapter cannot answer permission requests yet (branch claude-interactive)');
    const run = agent.execute({ prompt: 'Please write a note', cwd: scratch, timeoutMs: 60_000 });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = await reading.event;
    expect(asked).toMatchObject({ tool: 'Write', input: { file_path: join(scratch, OFFLINE_NOTE) } });
    await run.respond(asked.type === 'permission.requested' ? asked.id : '', 'allow');
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain(`I wrote ${OFFLINE_NOTE}`);
    expect(await readFile(join(scratch, OFFLINE_NOTE), 'utf8')).toContain('Forge demo');
  }, 90_000);

  it('asks a question with AskUserQuestion: the answer reaches the model', async (t) => {
    if (!(await agent.capabilities()).questions)
      t.skip('this claude-code adapter cannot answer questions yet (branch claude-interactive)');
    const run = agent.execute({ prompt: 'Ask me a question', cwd: scratch, timeoutMs: 60_000 });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    const asked = await reading.event;
    expect(asked).toMatchObject({
      questions: [{ question: 'Which colour should the button be?', options: [{ label: 'Blue' }, { label: 'Red' }] }],
    });
    await run.answer(asked.type === 'question.requested' ? asked.id : '', [['Red']]);
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain('Red');
  }, 90_000);

  it('the note is not written when the permission is denied', async (t) => {
    if (!(await agent.capabilities()).permissionReplies)
      t.skip('this claude-code adapter cannot answer permission requests yet (branch claude-interactive)');
    const other = await mkdtemp(join(scratch, 'deny-'));
    const run = agent.execute({ prompt: 'Write a note', cwd: other, timeoutMs: 60_000 });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = await reading.event;
    await run.respond(asked.type === 'permission.requested' ? asked.id : '', 'deny', 'not today');
    await reading.all;
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain('was not allowed');
    expect(existsSync(join(other, OFFLINE_NOTE))).toBe(false);
  }, 90_000);
});
