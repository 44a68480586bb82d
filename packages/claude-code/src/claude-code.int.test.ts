import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localProcessRunner, type AgentEvent, type ProcessRunner, type RunningProcess } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeCode } from './agent.js';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
  type FakeResponder,
} from './testing/index.js';

/**
 * The real CLI (devDependency `@anthropic-ai/claude-code`) against the fake Messages API on
 * 127.0.0.1, with a scratch HOME. Each test scripts the fake's answers.
 */
describe('claudeCode with the real CLI against a fake Anthropic API', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let responder: FakeResponder = () => ({ text: 'unset' });
  const spawned: RunningProcess[] = [];

  // Records every process, so tests can check that none is left behind.
  const local = localProcessRunner();
  const runner: ProcessRunner = {
    async spawn(command, args, options) {
      const p = await local.spawn(command, args, options);
      spawned.push(p);
      return p;
    },
  };

  const agent = (env: Record<string, string> = {}) =>
    claudeCode({
      runner,
      bin: claudeBinPath(),
      cwd: scratch,
      env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home'), ...env },
      sigintGraceMs: 5_000,
    });

  const turns = () =>
    api.requests.filter(
      (r) => r.method === 'POST' && r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'),
    );
  const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
    events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

  const alive = (pid: number | undefined) => {
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** Living processes whose command line (arguments joined by spaces) contains `marker`, read from /proc. */
  const processesWith = async (marker: string) => {
    const found: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
      // A zombie (killed, not yet reaped by a PID 1 that does not reap) counts as gone.
      const state = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '')[0];
      if (cmd.includes(marker) && state !== 'Z' && state !== 'X') found.push(pid);
    }
    return found;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-claude-int-'));
    api = await startFakeAnthropicApi({ respond: (req) => responder(req) });
  });
  afterAll(async () => {
    for (const p of spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });

  it('reports the CLI version it found', async () => {
    const caps = await agent().capabilities();
    expect(caps.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(caps).toMatchObject({ resume: true, cancel: true, textDeltas: true });
  });

  it('answers with text, streamed as deltas, and carries a tricky prompt intact', async () => {
    responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const prompt = `--not-a-flag "quoted" 'single' $HOME \`tick\`\nsecond line ✓ 日本\n${'x'.repeat(50_000)}`;
    const run = agent().execute({ prompt, timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(turns()[0]!.lastUserText).toBe(prompt);
    expect(result.text).toBe(`You said: ${prompt}`);
    const started = ofType(events, 'session.started')[0]!;
    expect(started.sessionId).toMatch(/\S/);
    expect(result.sessionId).toBe(started.sessionId);
    expect(ofType(events, 'text.delta').length).toBeGreaterThan(1);
    expect(
      ofType(events, 'text.delta')
        .map((e) => e.text)
        .join(''),
    ).toBe(result.text);
    expect(ofType(events, 'message').at(-1)!.text).toBe(result.text);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.turns).toBe(1);
  });

  it('runs a Bash tool and answers after its result, then resumes the session', async () => {
    responder = (req) =>
      req.hasToolResult
        ? { text: 'The command printed its greeting.' }
        : req.lastUserText.includes('again')
          ? { text: 'Resumed.' }
          : { toolUse: { name: 'Bash', input: { command: 'echo hi', description: 'say hi' } } };
    const first = await collectRun(agent().execute({ prompt: 'please run echo', allowedTools: ['Bash'] }));
    expect(first.result.status).toBe('completed');
    const call = ofType(first.events, 'tool.call')[0]!;
    expect(call).toMatchObject({ name: 'Bash', input: { command: 'echo hi' } });
    const toolResult = ofType(first.events, 'tool.result')[0]!;
    expect(toolResult).toMatchObject({ callId: call.callId, output: 'hi', isError: false });
    expect(first.result.text).toBe('The command printed its greeting.');
    expect(first.result.turns).toBe(2);
    const sessionId = first.result.sessionId!;
    expect(sessionId).toMatch(/\S/);

    api.requests.length = 0;
    const second = await collectRun(agent().execute({ prompt: 'again, please', sessionId }));
    expect(second.result.status).toBe('completed');
    expect(second.result.text).toBe('Resumed.');
    expect(second.result.sessionId).toBe(sessionId);
    // The fake model sees the first run's conversation: its prompt, the tool call and its result.
    const seen = JSON.stringify(turns().at(-1)!.body.messages);
    expect(seen).toContain('please run echo');
    expect(seen).toContain('tool_result');
    expect(seen).toContain('again, please');
  });

  it('fails a run whose model API answers 500, with each retry surfaced', async () => {
    responder = () => ({ status: 500 });
    const { events, result } = await collectRun(
      agent({ CLAUDE_CODE_MAX_RETRIES: '1' }).execute({ prompt: 'hi', timeoutMs: 30_000 }),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('API_ERROR');
    expect(result.error?.message).toContain('500');
    const retries = ofType(events, 'error').filter((e) => e.code === 'API_RETRY');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatchObject({ retryable: true, details: { errorStatus: 500 } });
  });

  it('fails a run whose model API answers 401 as an auth error', async () => {
    responder = () => ({ status: 401 });
    const { result } = await collectRun(
      agent({ CLAUDE_CODE_MAX_RETRIES: '1' }).execute({ prompt: 'hi', timeoutMs: 30_000 }),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('API_AUTH_ERROR');
    expect(result.error?.message).toContain('401');
  });

  it('bounds the CLI retrying a failing API with timeoutMs', async () => {
    responder = () => ({ status: 500 });
    const before = spawned.length;
    const { events, result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 5_000 }));
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('TIMED_OUT');
    expect(result.sessionId).toMatch(/\S/);
    expect(ofType(events, 'error').some((e) => e.code === 'API_RETRY')).toBe(true);
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
  });

  it('cancels mid-answer: cancelled with the session id, and no process left', async () => {
    responder = () => ({ text: 'one two three four five six seven eight nine ten', delayMs: 400 });
    const before = spawned.length;
    const run = agent().execute({ prompt: 'talk slowly' });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'text.delta' && ofType(events, 'text.delta').length === 1) void run.cancel('enough');
    }
    const result = await run.result;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.error?.code).toBe('CANCELLED');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    const procs = spawned.slice(before);
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) {
      expect((await p.exited).signal ?? 'none').not.toBe('SIGKILL');
      expect(alive(p.pid)).toBe(false);
    }
  });

  it('cancels while a Bash tool runs: the tool is stopped too', async () => {
    const marker = `sleep 47.${process.pid}`;
    responder = (req) =>
      req.hasToolResult
        ? { text: 'done' }
        : { toolUse: { name: 'Bash', input: { command: marker, description: 'wait' } } };
    const before = spawned.length;
    const run = agent().execute({ prompt: 'wait a while', allowedTools: ['Bash'] });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'tool.call') {
        // Give the shell a moment to start the command, so the cancel really interrupts it.
        for (let i = 0; i < 50 && (await processesWith(marker)).length === 0; i++)
          await new Promise((r) => setTimeout(r, 100));
        void run.cancel();
      }
    }
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
    expect(await processesWith(marker)).toEqual([]);
  });

  it("keeps the host's secrets from the CLI and its tools: the Bash tool's `env` shows none", async () => {
    const saved = process.env;
    process.env = { ...saved, FORGE_API_KEYS: 'alice:alice-key-in-the-host-env', SOME_DB_PASSWORD: 'hunter2-host' };
    try {
      responder = (req) =>
        req.hasToolResult
          ? { text: 'printed' }
          : { toolUse: { name: 'Bash', input: { command: 'env', description: 'print the environment' } } };
      const { events, result } = await collectRun(agent().execute({ prompt: 'run env', allowedTools: ['Bash'] }));
      expect(result.status).toBe('completed');
      const output = JSON.stringify(ofType(events, 'tool.result')[0]!.output);
      expect(output).toContain('ANTHROPIC_BASE_URL='); // what the CLI needs reaches it
      expect(output).toContain('PATH=');
      expect(output).not.toContain('alice-key-in-the-host-env');
      expect(output).not.toContain('FORGE_API_KEYS');
      expect(output).not.toContain('hunter2-host');
    } finally {
      process.env = saved;
    }
  });

  it('cancels a run whose Bash tool left a process in the background: nothing survives', async () => {
    // The CLI starts its tools in a session of their own; a backgrounded command outlives the tool call.
    const marker = `sleep 1013.${process.pid}`;
    responder = (req) =>
      req.hasToolResult
        ? { hang: true }
        : {
            toolUse: {
              name: 'Bash',
              input: { command: `nohup ${marker} > /dev/null 2>&1 &`, description: 'start something' },
            },
          };
    const before = spawned.length;
    const run = agent().execute({ prompt: 'start it and wait', allowedTools: ['Bash'] });
    for await (const e of run) {
      if (e.type === 'tool.result') {
        for (let i = 0; i < 50 && (await processesWith(marker)).length === 0; i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(await processesWith(marker)).not.toEqual([]);
        void run.cancel();
      }
    }
    expect((await run.result).status).toBe('cancelled');
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('cancels while the API hangs', async () => {
    responder = () => ({ hang: true });
    const before = spawned.length;
    const run = agent().execute({ prompt: 'hello?' });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'session.started') setTimeout(() => void run.cancel(), 300);
    }
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
  });

  it('fails with a typed error before any event when the binary is missing', async () => {
    const missing = claudeCode({ bin: join(scratch, 'no-such-claude') });
    const { events, result } = await collectRun(missing.execute({ prompt: 'hi' }));
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROCESS_SPAWN_FAILED');
    const caps = await missing.capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toMatch(/not found/);
  });
});
