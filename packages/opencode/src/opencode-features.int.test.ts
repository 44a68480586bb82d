import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedFieldError, type AgentEvent, type CodeAgent } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NONCE_MCP_SERVER_PATH } from '../../../scripts/test-support/nonce-mcp-server.js';
import { opencode, startOpencodeServer, type OpencodeServer } from './index.js';
import {
  afterToolResult,
  answerJson,
  callMcpNonce,
  fakeOpencodeConfig,
  imagesReceived,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  opencodeTools,
  reportImages,
  startFakeOpenAiApi,
  type ChatRequest,
  type FakeOpenAiApi,
  type FakeReply,
} from './testing/index.js';
import { processesLeftUsing } from './test-support/processes-using.js';

const NONCE = `nonce-${process.pid}-opencode`;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const VERDICT = { verdict: 'ok', comments: ['looks fine'] };
const SCHEMA = {
  type: 'object',
  properties: { verdict: { type: 'string' }, comments: { type: 'array', items: { type: 'string' } } },
  required: ['verdict'],
};

let project = '';

/** Scripted by markers in the prompt (the subagent's prompt too). */
function reply(request: ChatRequest): FakeReply {
  if (!request.tools?.length) return { kind: 'text', text: 'Fake title' };
  if (afterToolResult(request)) {
    const last = request.messages[request.messages.length - 1]!;
    return { kind: 'text', text: `Tool said: ${String(last.content).trim()}` };
  }
  const prompt = lastUserText(request);
  if (prompt.includes('[[mcp]]')) return callMcpNonce(request);
  if (prompt.includes('[[json]]')) return answerJson(request, VERDICT);
  if (prompt.includes('[[images]]')) return reportImages(request);
  if (prompt.includes('[[work]]'))
    return {
      kind: 'tool',
      calls: [
        opencodeTools.todowrite([
          { content: 'change a.txt', status: 'completed', priority: 'high' },
          { content: 'add src/new.txt', status: 'in_progress', priority: 'medium' },
        ]),
        opencodeTools.edit(join(project, 'a.txt'), 'one', 'uno'),
        opencodeTools.write(join(project, 'src', 'new.txt'), 'fresh\n'),
      ],
    };
  if (prompt.includes('[[apply]]'))
    return {
      kind: 'tool',
      calls: [
        opencodeTools.applyPatch(
          '*** Begin Patch\n*** Add File: patched.txt\n+patched\n*** Update File: notes.txt\n@@\n-the notes say 42\n+the notes say 43\n*** End Patch',
        ),
      ],
    };
  if (prompt.includes('[[task]]')) return { kind: 'tool', calls: [opencodeTools.task('undo', 'please [[undo]]')] };
  if (prompt.includes('[[undo]]'))
    return { kind: 'tool', calls: [opencodeTools.edit(join(project, 'a.txt'), 'uno', 'one')] };
  return { kind: 'text', text: `Hello from fake: ${prompt}` };
}

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

describe('opencode adapter against the real `opencode serve`: inputs, file changes, plan, subagents, fork', () => {
  let scratch: string;
  let api: FakeOpenAiApi;
  let server: OpencodeServer;
  let agent: CodeAgent;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-opencode-features-'));
    project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    await writeFile(join(project, 'a.txt'), 'one\ntwo\n');
    await writeFile(join(project, 'notes.txt'), 'the notes say 42\n');
    api = await startFakeOpenAiApi({ reply });
    server = await startOpencodeServer({
      bin: opencodeBinPath(),
      cwd: project,
      env: isolatedOpencodeEnv(scratch),
      inheritEnv: false,
      // An MCP server for every session of this server: how an operator gives OpenCode tools (not per run).
      config: fakeOpencodeConfig(api.url, {
        mcp: {
          probe: {
            type: 'local',
            command: [process.execPath, NONCE_MCP_SERVER_PATH],
            environment: { FORGE_MCP_NONCE: NONCE },
          },
        },
      }),
      startTimeoutMs: 60_000,
    });
    agent = opencode({ baseUrl: server.url, directory: project });
  }, 90_000);

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

  it('refuses mcpServers per run before any work: the server would add them to every session', () => {
    const before = api.requests.length;
    expect(() =>
      agent.execute({ prompt: '[[mcp]]', mcpServers: [{ name: 'probe2', command: process.execPath, args: ['x'] }] }),
    ).toThrow(UnsupportedFieldError);
    expect(api.requests.length).toBe(before);
  });

  it('calls an MCP tool the server was configured with, and the nonce comes back', async () => {
    const run = agent.execute({ prompt: 'Use the probe [[mcp]]', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'tool.call').map((e) => e.name)).toContain('probe_nonce');
    expect(result.text).toBe(`Tool said: ${NONCE}`);
  }, 90_000);

  it('answers an outputSchema through format json_schema: result.output is the structured answer', async () => {
    const run = agent.execute({ prompt: 'Review this [[json]]', outputSchema: SCHEMA, timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual(VERDICT);
    const asked = api.requests.find((r) => lastUserText(r).includes('Review this [[json]]') && r.tools?.length)!;
    expect(asked.tools!.map((t) => t.function.name)).toContain('StructuredOutput');

    // The session can no longer be listed (the server's 400), yet it continues — as a repair turn would.
    const again = agent.execute({
      prompt: 'Once more [[json]]',
      sessionId: result.sessionId!,
      outputSchema: SCHEMA,
      timeoutMs: 60_000,
    });
    const second = await collectRun(again);
    expect(runProblems(second.events, again.id)).toEqual([]);
    expect(second.result.status).toBe('completed');
    expect(second.result.output).toEqual(VERDICT);
    // Only the new turn's tool call, not the first one's again.
    expect(ofType(second.events, 'tool.call')).toHaveLength(1);
    const history = api.requests.find((r) => lastUserText(r).includes('Once more [[json]]') && r.tools?.length)!;
    expect(JSON.stringify(history.messages)).toContain('Review this [[json]]');
  }, 90_000);

  it('sends an image and a file: the model sees the image, and the file through its read tool', async () => {
    const run = agent.execute({
      prompt: 'Look [[images]]',
      attachments: [
        { kind: 'image', data: PNG, mimeType: 'image/png', name: 'dot.png' },
        { kind: 'file', path: 'notes.txt' },
      ],
      timeoutMs: 60_000,
    });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.text).toBe('I received 1 image(s)');
    const seen = api.requests.find((r) => lastUserText(r).startsWith('Look [[images]]'))!;
    expect(imagesReceived(seen)).toEqual([`data:image/png;base64,${PNG}`]);
    expect(JSON.stringify(seen.messages)).toContain('the notes say 42');
  }, 90_000);

  it('sends effort as a model variant (reasoning_effort reaches the model); refuses it for a model without one', async () => {
    const run = agent.execute({ prompt: 'Think hard', effort: 'high', timeoutMs: 60_000 });
    const { result } = await collectRun(run);
    expect(result.status).toBe('completed');
    const seen = api.requests.find((r) => lastUserText(r) === 'Think hard' && r.tools?.length)!;
    expect(seen.reasoning_effort).toBe('high');

    const before = api.requests.length;
    const refused = await agent.execute({ prompt: 'Think', effort: 'low', model: 'fake/fake-plain' }).result;
    expect(refused.status).toBe('failed');
    expect(refused.error?.code).toBe('UNSUPPORTED_FIELD');
    expect(api.requests.length).toBe(before);
  }, 90_000);

  it('reports edits as file.changed with diffs and the todo list as plan.updated', async () => {
    const run = agent.execute({ prompt: 'Do the work [[work]]', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(await readFile(join(project, 'a.txt'), 'utf8')).toBe('uno\ntwo\n');
    const changes = ofType(events, 'file.changed');
    expect(changes.map(({ path, change }) => ({ path, change }))).toEqual(
      expect.arrayContaining([
        { path: 'a.txt', change: 'modified' },
        { path: 'src/new.txt', change: 'added' },
      ]),
    );
    expect(changes.find((c) => c.path === 'a.txt')!.diff).toContain(
      '--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n-one\n+uno\n two\n',
    );
    expect(changes.find((c) => c.path === 'src/new.txt')!.diff).toContain('+fresh\n');
    expect(ofType(events, 'plan.updated').at(-1)!.entries).toEqual([
      { content: 'change a.txt', status: 'completed', priority: 'high' },
      { content: 'add src/new.txt', status: 'in_progress', priority: 'medium' },
    ]);
    expect(result.filesChanged).toEqual(
      expect.arrayContaining([
        { path: 'a.txt', change: 'modified' },
        { path: 'src/new.txt', change: 'added' },
      ]),
    );
  }, 90_000);

  it('reports a GPT model’s apply_patch as one file.changed per file', async () => {
    const run = agent.execute({ prompt: 'Patch it [[apply]]', model: 'fake/gpt-5-fake', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(ofType(events, 'tool.call').map((e) => e.name)).toEqual(['apply_patch']);
    expect(await readFile(join(project, 'notes.txt'), 'utf8')).toBe('the notes say 43\n');
    const changes = ofType(events, 'file.changed');
    expect(changes.map(({ path, change }) => ({ path, change }))).toEqual([
      { path: 'patched.txt', change: 'added' },
      { path: 'notes.txt', change: 'modified' },
    ]);
    expect(changes[1]!.diff).toContain(
      '--- notes.txt\n+++ notes.txt\n@@ -1,1 +1,1 @@\n-the notes say 42\n+the notes say 43\n',
    );
  }, 90_000);

  it('nests a subagent’s work under its task call', async () => {
    const run = agent.execute({ prompt: 'Delegate [[task]]', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    const task = ofType(events, 'tool.call').find((e) => e.name === 'task')!;
    const nested = events.filter((e) => e.parentToolCallId === task.callId);
    expect(ofType(nested, 'tool.call').map((e) => e.name)).toEqual(['edit']);
    expect(ofType(nested, 'file.changed')).toMatchObject([{ path: 'a.txt', change: 'modified' }]);
    expect(ofType(nested, 'file.changed')[0]!.diff).toContain('-uno\n+one\n');
    expect(await readFile(join(project, 'a.txt'), 'utf8')).toBe('one\ntwo\n');
  }, 90_000);

  it('forks a session: both branches continue independently from the same history', async () => {
    const first = await agent.execute({ prompt: 'Remember the colour teal', timeoutMs: 60_000 }).result;
    expect(first.status).toBe('completed');
    const original = first.sessionId!;

    const branchA = await agent.execute({ prompt: 'Branch A asks', sessionId: original, fork: true }).result;
    expect(branchA.status).toBe('completed');
    expect(branchA.sessionId).toMatch(/^ses_/);
    expect(branchA.sessionId).not.toBe(original);
    const branchB = await agent.execute({ prompt: 'Branch B asks', sessionId: original }).result;
    expect(branchB.status).toBe('completed');
    expect(branchB.sessionId).toBe(original);
    const branchA2 = await agent.execute({ prompt: 'Branch A again', sessionId: branchA.sessionId! }).result;
    expect(branchA2.text).toBe('Hello from fake: Branch A again');

    const history = (last: string) =>
      JSON.stringify(api.requests.find((r) => lastUserText(r) === last && r.tools?.length)!.messages);
    // Each branch has the shared first turn and its own turns, never the other branch's.
    expect(history('Branch A asks')).toContain('Remember the colour teal');
    expect(history('Branch B asks')).toContain('Remember the colour teal');
    expect(history('Branch B asks')).not.toContain('Branch A asks');
    expect(history('Branch A again')).toContain('Branch A asks');
    expect(history('Branch A again')).not.toContain('Branch B asks');
  }, 120_000);
});
