import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent, CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geminiCli } from './presets.js';
import { allowAll } from './test-support/allow-all.js';
import { alive, ofType, processesWith, trackingRunner, waitFor } from './test-support/int-rig.js';
import {
  type FakeGeminiApi,
  type FakeGeminiResponder,
  fakeGeminiEnv,
  geminiBinPath,
  startFakeGeminiApi,
} from './testing/index.js';

/**
 * The real Gemini CLI 0.61.0 (`gemini --acp`, devDependency) against the fake Gemini API on
 * 127.0.0.1, with a scratch HOME. Each test scripts the fake's answers by the prompt's [[tag]].
 */
// Unique to this worker (and ended by `; echo late`, so no other pid's marker contains it): files, and other
// checkouts' runs, go on at the same time, and a plain `sleep 49` could be another run's tool process.
const SLEEP = `sleep 49.${process.pid}; echo late`;
const shell = (command: string) => ({
  functionCall: { name: 'run_shell_command', args: { command, description: 'as asked' } },
  text: 'I will run a command.',
});

const scripted: FakeGeminiResponder = (req) => {
  const tag = /\[\[(\w+)\]\]/.exec(req.lastUserText)?.[1];
  if (req.hasFunctionResponse) return { text: 'The tool is done.' };
  switch (tag) {
    case 'tool':
      return shell('echo hi');
    case 'slow':
      return shell(SLEEP);
    case 'write':
      return {
        functionCall: { name: 'write_file', args: { file_path: 'forge-written.txt', content: 'written by fake\n' } },
      };
    case 'edit':
      return {
        functionCall: {
          name: 'replace',
          args: { file_path: 'forge-edited.txt', old_string: 'beta', new_string: 'gamma', instruction: 'rename beta' },
        },
      };
    case 'slowtext':
      return { text: 'one two three four five six seven eight nine ten', delayMs: 400 };
    case 'hang':
      return { hang: true };
    case 'e500':
      return { status: 500, message: 'fake internal error' };
    default:
      return { text: `Hello from the fake. You said: ${req.lastUserText}` };
  }
};

describe('geminiCli with the real gemini CLI against a fake Gemini API', () => {
  let api: FakeGeminiApi;
  let scratch: string;
  let work: string;
  let env: Record<string, string>;
  const runner = trackingRunner();
  const agents: CodeAgent[] = [];

  const agent = () => {
    const a = geminiCli({ bin: geminiBinPath(), runner, cwd: work, env, initializeTimeoutMs: 60_000 });
    agents.push(a);
    return a;
  };
  // One process serves many sessions, and a cold Gemini start costs seconds of CPU (3.8 s measured, more under
  // load): every test that needs no process of its own (one that is closed, killed or replaced) runs its
  // sessions on this one; it is closed after the last test.
  let sharedAgent: CodeAgent | undefined;
  const shared = () => {
    sharedAgent ??= geminiCli({ bin: geminiBinPath(), runner, cwd: work, env, initializeTimeoutMs: 60_000 });
    return sharedAgent;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-gemini-acp-'));
    work = join(scratch, 'work');
    await mkdir(work);
    api = await startFakeGeminiApi({ respond: (r) => scripted(r) });
    env = await fakeGeminiEnv(api.url, join(scratch, 'home'));
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close?.();
  });
  afterAll(async () => {
    await sharedAgent?.close?.();
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(runner.spawned.filter((p) => alive(p.pid))).toEqual([]);
    expect(await processesWith(SLEEP)).toEqual([]);
  });

  it('answers with text deltas, one message, usage, and the capabilities initialize reported', {
    timeout: 60_000,
  }, async () => {
    const a = shared();
    const caps = await a.capabilities();
    expect(caps).toMatchObject({ version: '0.61.0', resume: true, permissionReplies: true, images: true });
    const started = runner.spawned.length;
    const { events, result } = await collectRun(a.execute({ prompt: 'say hi' }));
    expect(runProblems(events)).toEqual([]);
    expect(ofType(events, 'text.delta').length).toBeGreaterThan(1);
    expect(ofType(events, 'message').at(-1)!.text).toBe('Hello from the fake. You said: say hi');
    expect(result).toMatchObject({ status: 'completed', text: 'Hello from the fake. You said: say hi' });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    // One process serves the next run, and continues the same session without session/load.
    const again = await a.execute({ prompt: 'again', sessionId: result.sessionId }).result;
    expect(again).toMatchObject({ status: 'completed', sessionId: result.sessionId });
    expect(runner.spawned).toHaveLength(started);
    expect(runner.spawned.filter((p) => alive(p.pid))).toHaveLength(1);
    const last = api.requests.filter((r) => r.action === 'streamGenerateContent').at(-1)!;
    expect(JSON.stringify(last.body.contents)).toContain('say hi');
  });

  it('reports a shell tool call and its result', { timeout: 60_000 }, async () => {
    const { events, result } = await collectRun(shared().execute({ prompt: '[[tool]] run echo hi' }));
    expect(runProblems(events)).toEqual([]);
    const call = ofType(events, 'tool.call')[0]!;
    expect(call).toMatchObject({ name: 'execute', input: { title: 'echo hi' } });
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ callId: call.callId, isError: false });
    expect(result).toMatchObject({ status: 'completed', text: 'The tool is done.' });
  });

  it.each([
    ['allow', true],
    ['deny', false],
  ] as const)('asks permission to write a file; %s', { timeout: 60_000 }, async (decision, written) => {
    const target = join(work, 'forge-written.txt');
    await rm(target, { force: true });
    const run = shared().execute({ prompt: '[[write]] write a file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as Extract<AgentEvent, { type: 'permission.requested' }>;
    expect(asked.tool).toBe('edit');
    await run.respond(asked.id, decision);
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    const content = await readFile(target, 'utf8').catch(() => undefined);
    expect(content).toBe(written ? 'written by fake\n' : undefined);
    // The change is reported once made, relative to the cwd; a refused write changed nothing.
    const changed = ofType(events, 'file.changed');
    if (written) {
      expect(changed).toEqual([
        expect.objectContaining({
          path: 'forge-written.txt',
          change: 'added',
          diff: '--- /dev/null\n+++ b/forge-written.txt\n@@ -0,0 +1,1 @@\n+written by fake\n',
          toolCallId: ofType(events, 'tool.call')[0]!.callId,
        }),
      ]);
      expect((await run.result).filesChanged).toEqual([{ path: 'forge-written.txt', change: 'added' }]);
    } else {
      expect(changed).toEqual([]);
    }
  });

  it('reports an edit of an existing file as file.changed with a unified diff', { timeout: 60_000 }, async () => {
    await writeFile(join(work, 'forge-edited.txt'), 'alpha\nbeta\n');
    const run = shared().execute({ prompt: '[[edit]] rename beta' });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(await readFile(join(work, 'forge-edited.txt'), 'utf8')).toBe('alpha\ngamma\n');
    const changed = ofType(events, 'file.changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ path: 'forge-edited.txt', change: 'modified' });
    expect(changed[0]!.diff).toContain('--- a/forge-edited.txt\n+++ b/forge-edited.txt\n');
    expect(changed[0]!.diff).toContain('-beta\n+gamma\n');
    expect(result.filesChanged).toEqual([{ path: 'forge-edited.txt', change: 'modified' }]);
  });

  it('cancels mid-stream, keeps the session, and the session goes on', { timeout: 60_000 }, async () => {
    const a = shared();
    const run = a.execute({ prompt: '[[slowtext]] talk slowly' });
    const reading = firstEvent(run, (e) => e.type === 'text.delta');
    await reading.event;
    const result = await run.cancel();
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    const next = await a.execute({ prompt: 'still there?', sessionId: result.sessionId }).result;
    expect(next.status).toBe('completed');
  });

  it('cancels mid-tool (a permitted `sleep`), leaving no tool process', { timeout: 60_000 }, async () => {
    const run = shared().execute({ prompt: '[[slow]] run a slow command' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as Extract<AgentEvent, { type: 'permission.requested' }>;
    await run.respond(asked.id, 'allow');
    expect(await waitFor(async () => (await processesWith(SLEEP)).length > 0)).toBe(true);
    const result = await run.cancel();
    expect(result.status).toBe('cancelled');
    expect(runProblems(await reading.all)).toEqual([]);
    expect(await waitFor(async () => (await processesWith(SLEEP)).length === 0)).toBe(true);
  });

  it('cancels while a permission request is pending (Gemini waits for the `cancelled` answer)', {
    timeout: 60_000,
  }, async () => {
    const run = shared().execute({ prompt: '[[slow]] run a slow command' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await reading.event;
    const result = await run.cancel();
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBeDefined();
  });

  it('fails a turn whose model API answers 500 (API_ERROR, retryable); the process stays usable', {
    timeout: 60_000,
  }, async () => {
    const a = shared();
    const failed = await a.execute({ prompt: '[[e500]] fail' }).result;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'API_ERROR', retryable: true });
    expect(failed.error!.message).toContain('fake internal error');
    expect((await a.execute({ prompt: 'after the error', sessionId: failed.sessionId }).result).status).toBe(
      'completed',
    );
  });

  it('a process that dies mid-run fails the run (ACP_PROCESS_EXITED, retryable); the next run starts a new one', {
    timeout: 60_000,
  }, async () => {
    const a = agent();
    const run = a.execute({ prompt: '[[hang]] wait for ever' });
    const reading = firstEvent(run, (e) => e.type === 'session.started');
    await reading.event;
    await waitFor(() => api.requests.some((r) => r.lastUserText.includes('[[hang]]')));
    const proc = runner.spawned.at(-1)!;
    proc.kill('SIGKILL');
    const result = await run.result;
    expect(runProblems(await reading.all)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ACP_PROCESS_EXITED', retryable: true } });
    expect(result.error!.message).toContain('SIGKILL');
    const next = await a.execute({ prompt: 'a new process' }).result;
    expect(next.status).toBe('completed');
    expect(runner.spawned.at(-1)).not.toBe(proc);
  });

  it('continues a session in a new process with session/load (flaky in 0.61: a failure is typed)', {
    timeout: 90_000,
  }, async () => {
    // The first session on the shared process; the second run is a new process that must load it.
    const first = await shared().execute({ prompt: 'remember the word forge-load-marker' }).result;
    expect(first.status).toBe('completed');
    const { events, result } = await collectRun(
      agent().execute({ prompt: 'what was the word?', sessionId: first.sessionId }),
    );
    expect(runProblems(events)).toEqual([]);
    if (result.status === 'completed') {
      expect(result.sessionId).toBe(first.sessionId);
      // The history is replayed by the agent but not reported as this run's events.
      expect(ofType(events, 'message').map((m) => m.text)).toEqual([
        'Hello from the fake. You said: what was the word?',
      ]);
      const last = api.requests.filter((r) => r.action === 'streamGenerateContent').at(-1)!;
      expect(JSON.stringify(last.body.contents)).toContain('forge-load-marker');
    } else {
      // "No previous sessions found for this project." — see the README's quirks.
      expect(result.status).toBe('failed');
      expect(result.error!.code).toMatch(/^ACP_/);
    }
  });
});
