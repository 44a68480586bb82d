import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  claudeBinPath,
  type FakeAnthropicApi,
  type FakeApiRequest,
  type FakeResponder,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { AgentEvent, CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClaudeCodeAcpOptions, claudeCodeAcp } from './presets.js';
import { allowAll } from './test-support/allow-all.js';
import { alive, ofType, processesWith, processesWithHome, trackingRunner, waitFor } from './test-support/int-rig.js';
import { claudeCodeAcpPath } from './testing/index.js';

/**
 * The real `@zed-industries/claude-code-acp` 0.16.2 (devDependency) against `@forge/claude-code`'s fake Messages
 * API on 127.0.0.1, with a scratch HOME. claude-code-acp starts a Claude Code CLI per session, and those starts
 * were most of this file's CPU: its agents drive the native `claude` binary of `@forge/claude-code`'s
 * devDependency (`claudeExecutable`, ~0.9 s of CPU a start), not claude-code-acp's default, the agent SDK's
 * bundled cli.js under Node (~1.7 s). What the tests check is the adapter's behaviour, the same over either CLI
 * but for a refused permission; one test runs over the bundled CLI, so claude-code-acp's default stays covered,
 * and it is the refused Write (see there). That test and the Bash one check which CLI their session ran; the
 * file's end checks that no process with its scratch HOME (claude-code-acp, a CLI, a tool) is left.
 */
// Unique to this worker (and ended by `; echo late`, so no other pid's marker contains it): files, and other
// checkouts' runs, go on at the same time, and a plain `sleep 53` could be another run's tool process.
const SLEEP = `sleep 53.${process.pid}; echo late`;
// claude-code-acp does not exit when its stdin closes: every close waits out this grace, then SIGTERMs it (the
// default, 2 s, is for agents that save state on the way out). A test's agent has nothing to save.
const CLOSE_GRACE_MS = 200;

/** The name of the last tool the model called in the conversation so far. */
function lastToolUse(req: FakeApiRequest): string | undefined {
  const messages = Array.isArray(req.body?.messages) ? (req.body.messages as Array<Record<string, unknown>>) : [];
  const uses = messages
    .filter((m) => m.role === 'assistant' && Array.isArray(m.content))
    .flatMap((m) => m.content as Array<Record<string, unknown>>)
    .filter((b) => b.type === 'tool_use');
  return uses.at(-1)?.name as string | undefined;
}

describe('claudeCodeAcp with the real claude-code-acp against a fake Messages API', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let work: string;
  const runner = trackingRunner();
  const agents: CodeAgent[] = [];

  const scripted: FakeResponder = (req) => {
    const tag = /\[\[(\w+)\]\]/.exec(req.lastUserText)?.[1];
    // Claude Code edits only a file it has read in the session: Read, then Edit, then the answer.
    if (req.hasToolResult && lastToolUse(req) === 'Read') {
      return {
        toolUse: {
          name: 'Edit',
          input: { file_path: join(work, 'claude-edited.txt'), old_string: 'beta', new_string: 'gamma' },
        },
      };
    }
    if (req.hasToolResult) return { text: 'The tool is done.' };
    switch (tag) {
      case 'tool':
        return {
          toolUse: { name: 'Bash', input: { command: 'echo hi', description: 'print hi' } },
          text: 'I will run.',
        };
      case 'slow':
        return { toolUse: { name: 'Bash', input: { command: SLEEP, description: 'wait' } } };
      case 'write':
        return {
          toolUse: { name: 'Write', input: { file_path: join(work, 'claude-written.txt'), content: 'written\n' } },
        };
      case 'edit':
        return { toolUse: { name: 'Read', input: { file_path: join(work, 'claude-edited.txt') } } };
      case 'todo':
        return {
          toolUse: {
            name: 'TodoWrite',
            input: {
              todos: [
                { content: 'Read the code', status: 'completed', activeForm: 'Reading the code' },
                { content: 'Fix the bug', status: 'in_progress', activeForm: 'Fixing the bug' },
                { content: 'Run the tests', status: 'pending', activeForm: 'Running the tests' },
              ],
            },
          },
        };
      case 'slowtext':
        return { text: 'one two three four five six seven eight nine ten eleven twelve', delayMs: 400 };
      case 'hang':
        return { hang: true };
      case 'e500':
        // The CLI sends the failed prompt again with the next one, in one user message.
        return req.lastUserText.includes('recover') ? { text: 'Recovered.' } : { status: 500 };
      default:
        return { text: `Hello from the fake. You said: ${req.lastUserText.trim()}` };
    }
  };

  const agent = (extra: Partial<ClaudeCodeAcpOptions> = {}) => {
    const a = newAgent(extra);
    agents.push(a);
    return a;
  };
  // One agent (one claude-code-acp process, a new session per run) for the tests that need no process of their
  // own: each start of the agent costs seconds; the tests that close, kill or reconfigure it make their own.
  let sharedAgent: CodeAgent | undefined;
  const shared = () => {
    sharedAgent ??= newAgent();
    return sharedAgent;
  };
  const newAgent = (extra: Partial<ClaudeCodeAcpOptions> = {}) =>
    claudeCodeAcp({
      command: claudeCodeAcpPath(),
      runner,
      closeGraceMs: CLOSE_GRACE_MS,
      // The native CLI: half the CPU of a bundled cli.js start (see the header).
      claudeExecutable: claudeBinPath(),
      cwd: work,
      env: {
        ...fakeAnthropicEnv(api.url),
        HOME: join(scratch, 'home'),
        CLAUDE_CODE_MAX_RETRIES: '1',
        IS_SANDBOX: '1',
      },
      ...extra,
    });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-claude-acp-'));
    work = join(scratch, 'work');
    await mkdir(work);
    await mkdir(join(scratch, 'home'));
    api = await startFakeAnthropicApi({ respond: (r) => scripted(r) });
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close?.();
  });
  afterAll(async () => {
    await sharedAgent?.close?.();
    const allGone = await waitFor(() => runner.spawned.every((p) => !alive(p.pid)), 5_000);
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    // The CLIs claude-code-acp started (native or bundled) and their tools: Forge never sees their pids.
    const home = join(scratch, 'home');
    await waitFor(async () => (await processesWithHome(home)).length === 0, 5_000);
    const left = await processesWithHome(home);
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(allGone).toBe(true);
    expect(left).toEqual([]);
    expect(await processesWith(SLEEP)).toEqual([]);
  });

  it('answers with text, reports capabilities, and resumes the session in a new process', {
    timeout: 90_000,
  }, async () => {
    const a = agent();
    const caps = await a.capabilities();
    expect(caps).toMatchObject({ version: '0.16.2', resume: true, permissionReplies: true });
    expect(caps.extra).toMatchObject({ sessionCapabilities: { resume: {} } });
    const { events, result } = await collectRun(a.execute({ prompt: 'remember forge-resume-marker' }));
    expect(runProblems(events)).toEqual([]);
    expect(ofType(events, 'text.delta').length).toBeGreaterThan(1);
    expect(result).toMatchObject({
      status: 'completed',
      text: 'Hello from the fake. You said: remember forge-resume-marker',
    });
    await a.close?.();
    expect((await a.execute({ prompt: 'closed' }).result).error?.code).toBe('AGENT_CLOSED');

    const b = agent();
    const resumed = await collectRun(b.execute({ prompt: 'and now?', sessionId: result.sessionId }));
    expect(runProblems(resumed.events)).toEqual([]);
    expect(resumed.result).toMatchObject({ status: 'completed', sessionId: result.sessionId });
    const turn = api.requests.filter((r) => r.path.startsWith('/v1/messages') && r.body?.tools?.length).at(-1)!;
    expect(JSON.stringify(turn.body.messages)).toContain('forge-resume-marker');
  });

  it('reports a Bash tool call and its result', { timeout: 60_000 }, async () => {
    const { events, result } = await collectRun(shared().execute({ prompt: '[[tool]] run echo hi' }));
    // The session's CLI (alive until the agent closes) is the native binary.
    expect(await processesWithHome(join(scratch, 'home'))).toContainEqual(
      expect.objectContaining({ exe: realpathSync(claudeBinPath()) }),
    );
    expect(runProblems(events)).toEqual([]);
    expect(ofType(events, 'tool.call')).toHaveLength(1);
    expect(ofType(events, 'tool.call')[0]).toMatchObject({ name: 'Bash', input: { command: 'echo hi' } });
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ output: 'hi', isError: false });
    expect(result).toMatchObject({ status: 'completed', text: 'The tool is done.' });
  });

  /** Asks `a`'s model to Write a file and answers the permission request with `decision`. */
  const askToWrite = async (a: CodeAgent, decision: 'allow' | 'deny') => {
    const written = decision === 'allow';
    const target = join(work, 'claude-written.txt');
    await rm(target, { force: true });
    const run = a.execute({ prompt: '[[write]] write a file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as Extract<AgentEvent, { type: 'permission.requested' }>;
    expect(asked).toMatchObject({ tool: 'Write', input: { file_path: target } });
    await run.respond(asked.id, decision);
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    expect(ofType(events, 'tool.result')[0]!.isError).toBe(!written);
    expect(await readFile(target, 'utf8').catch(() => undefined)).toBe(written ? 'written\n' : undefined);
    // claude-code-acp shows the diff with the proposal; it is reported once the Write succeeded, never when refused.
    expect(ofType(events, 'file.changed')).toEqual(
      written
        ? [
            expect.objectContaining({
              path: 'claude-written.txt',
              change: 'added',
              diff: '--- /dev/null\n+++ b/claude-written.txt\n@@ -0,0 +1,1 @@\n+written\n',
              toolCallId: ofType(events, 'tool.call')[0]!.callId,
            }),
          ]
        : [],
    );
  };

  it('asks permission to Write; allow', { timeout: 60_000 }, () => askToWrite(shared(), 'allow'));

  // The one test over the bundled cli.js (no CLAUDE_CODE_EXECUTABLE), so claude-code-acp's default stays covered.
  // It is the refused Write: claude-code-acp 0.16.2 over the native claude 2.1.197 fails a prompt whose permission
  // was refused (-32603 "[ede_diagnostic] … stop_reason=tool_use", ACP_RPC_ERROR; see the README), over the CLI it
  // bundles (2.1.44) the turn completes with the tool's error.
  it("runs over the agent SDK's bundled CLI (claude-code-acp's default) too: asks permission to Write; deny", {
    timeout: 60_000,
  }, async () => {
    await askToWrite(agent({ claudeExecutable: undefined }), 'deny');
    // The session's CLI (alive until the agent closes) is Node: cli.js names its process `claude`.
    expect(await processesWithHome(join(scratch, 'home'))).toContainEqual(
      expect.objectContaining({ exe: realpathSync(process.execPath), cmdline: 'claude' }),
    );
  });

  it('reports an Edit as file.changed with a unified diff of what the tool replaced', { timeout: 60_000 }, async () => {
    await writeFile(join(work, 'claude-edited.txt'), 'alpha\nbeta\n');
    const run = shared().execute({ prompt: '[[edit]] rename beta' });
    const events = await allowAll(run);
    const result = await run.result;
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(await readFile(join(work, 'claude-edited.txt'), 'utf8')).toBe('alpha\ngamma\n');
    const changed = ofType(events, 'file.changed');
    expect(changed.map(({ path, change, toolCallId }) => ({ path, change, toolCallId }))).toEqual([
      { path: 'claude-edited.txt', change: 'modified', toolCallId: ofType(events, 'tool.call')[1]!.callId },
    ]);
    // claude-code-acp's Edit diff is the replaced fragment (old_string → new_string), not the whole file.
    expect(changed[0]!.diff).toBe(
      '--- a/claude-edited.txt\n+++ b/claude-edited.txt\n@@ -1,1 +1,1 @@\n-beta\n\\ No newline at end of file\n+gamma\n\\ No newline at end of file\n',
    );
    expect(result.filesChanged).toEqual([{ path: 'claude-edited.txt', change: 'modified' }]);
  });

  it('reports a TodoWrite as plan.updated with the whole list', { timeout: 60_000 }, async () => {
    const run = shared().execute({ prompt: '[[todo]] plan it' });
    const events = await allowAll(run);
    expect(runProblems(events)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    expect(ofType(events, 'plan.updated').at(-1)!.entries).toEqual([
      { content: 'Read the code', status: 'completed', priority: 'medium' },
      { content: 'Fix the bug', status: 'in_progress', priority: 'medium' },
      { content: 'Run the tests', status: 'pending', priority: 'medium' },
    ]);
  });

  it('cancels mid-stream and the session goes on', { timeout: 60_000 }, async () => {
    const a = shared();
    const run = a.execute({ prompt: '[[slowtext]] talk slowly' });
    const reading = firstEvent(run, (e) => e.type === 'text.delta');
    await reading.event;
    const result = await run.cancel();
    expect(runProblems(await reading.all)).toEqual([]);
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect((await a.execute({ prompt: 'still there?', sessionId: result.sessionId }).result).status).toBe('completed');
  });

  it('cancels mid-tool (Bash sleep), leaving no tool process', { timeout: 60_000 }, async () => {
    // The shared agent: the tool process must be gone once the run is cancelled, before any agent closes.
    const run = shared().execute({ prompt: '[[slow]] run a slow command' });
    const reading = firstEvent(run, (e) => e.type === 'tool.call');
    await reading.event;
    expect(await waitFor(async () => (await processesWith(SLEEP)).length > 0)).toBe(true);
    const result = await run.cancel();
    expect(result.status).toBe('cancelled');
    expect(runProblems(await reading.all)).toEqual([]);
    expect(await waitFor(async () => (await processesWith(SLEEP)).length === 0)).toBe(true);
  });

  it('cancels while a permission request is pending', { timeout: 60_000 }, async () => {
    const run = shared().execute({ prompt: '[[write]] write a file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await reading.event;
    const result = await run.cancel();
    expect(runProblems(await reading.all)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBeDefined();
  });

  it('fails a turn whose model API answers 500 (API_ERROR, retryable)', { timeout: 60_000 }, async () => {
    const a = shared();
    const failed = await a.execute({ prompt: '[[e500]] fail' }).result;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'API_ERROR', retryable: true } });
    expect((await a.execute({ prompt: 'recover', sessionId: failed.sessionId }).result).status).toBe('completed');
  });

  it('a process that dies mid-run fails the run (ACP_PROCESS_EXITED); the next run restarts it', {
    timeout: 60_000,
  }, async () => {
    const a = agent();
    const run = a.execute({ prompt: '[[hang]] wait' });
    const reading = firstEvent(run, (e) => e.type === 'session.started');
    await reading.event;
    await waitFor(() => api.requests.some((r) => r.lastUserText.includes('[[hang]]')));
    const proc = runner.spawned.at(-1)!;
    proc.kill('SIGKILL');
    const result = await run.result;
    expect(runProblems(await reading.all)).toEqual([]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ACP_PROCESS_EXITED', retryable: true } });
    expect((await a.execute({ prompt: 'again' }).result).status).toBe('completed');
    expect(runner.spawned.at(-1)).not.toBe(proc);
  });
});
