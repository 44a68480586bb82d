import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentEvent, localProcessRunner, type ProcessRunner, type RunningProcess } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CodexOptions, codex as codexAgent } from './agent.js';

/** These tests are about `transport: 'exec'` (the app server has its own). */
const codex = (options: CodexOptions = {}) => codexAgent({ transport: 'exec', ...options });
import {
  codexBinPath,
  type FakeResponsesApi,
  type FakeResponsesResponder,
  fakeResponsesProvider,
  startFakeResponsesApi,
} from './testing/index.js';

/**
 * The real CLI (devDependency `@openai/codex` 0.171.0, its native binary) against the fake
 * Responses API on 127.0.0.1, with a scratch CODEX_HOME. Each test scripts the fake's answers.
 */
describe('codex with the real CLI against a fake Responses API', () => {
  let api: FakeResponsesApi;
  let scratch: string;
  let responder: FakeResponsesResponder = () => ({ text: 'unset' });
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

  const agent = (options: Partial<CodexOptions> = {}) =>
    codex({
      runner,
      bin: codexBinPath(),
      cwd: scratch,
      model: 'fake-model',
      provider: fakeResponsesProvider(api.url),
      env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
      ...options,
    });

  const calls = () => api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/responses'));
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
  /** Processes whose command line contains `marker`, read from /proc. */
  const processesWith = async (marker: string) => {
    const found: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes(marker)) found.push(pid);
    }
    return found;
  };
  const until = async (check: () => boolean | Promise<boolean>, tries = 100) => {
    for (let i = 0; i < tries && !(await check()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-codex-int-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    api = await startFakeResponsesApi({ respond: (req) => responder(req) });
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
    expect(caps.version).toBe('0.171.0');
    expect(caps).toMatchObject({ resume: true, cancel: true, permissionReplies: false, textDeltas: false });
  });

  it('answers with text, carries a tricky prompt intact, and reports usage and reasoning', async () => {
    responder = (req) => ({ text: `You said: ${req.lastUserText}`, reasoning: 'Thinking it over.' });
    const prompt = `--not-a-flag "quoted" 'single' $HOME \`tick\`\nsecond line ✓ 日本\n${'x'.repeat(50_000)}`;
    const run = agent().execute({ prompt, systemPrompt: 'FORGE-SYSTEM-MARKER', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(calls()[0]!.lastUserText).toBe(prompt);
    expect(calls()[0]!.headers.authorization).toBe('Bearer sk-offline-fake-key');
    expect(JSON.stringify(calls()[0]!.body.input)).toContain('FORGE-SYSTEM-MARKER');
    expect(result.text).toBe(`You said: ${prompt}`);
    const started = ofType(events, 'session.started')[0]!;
    expect(started.sessionId).toMatch(/\S/);
    expect(result.sessionId).toBe(started.sessionId);
    expect(ofType(events, 'reasoning')[0]!.text).toBe('Thinking it over.');
    expect(ofType(events, 'message').at(-1)!.text).toBe(result.text);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.turns).toBe(1);
  });

  it('runs a shell command and answers after its output, then resumes the session', async () => {
    responder = (req) =>
      req.hasToolOutput
        ? { text: `The command printed ${req.toolOutput.trim()}.` }
        : req.lastUserText.includes('again')
          ? { text: 'Resumed.' }
          : { shell: 'echo hi', text: 'I will run a command.' };
    const first = await collectRun(agent().execute({ prompt: 'please run echo', timeoutMs: 60_000 }));
    expect(first.result.status).toBe('completed');
    const call = ofType(first.events, 'tool.call')[0]!;
    expect(call).toMatchObject({ name: 'shell' });
    expect(String((call.input as { command: string }).command)).toContain('echo hi');
    expect(ofType(first.events, 'tool.result')[0]).toMatchObject({
      callId: call.callId,
      output: 'hi\n',
      isError: false,
    });
    expect(first.result.text).toBe('The command printed hi.');
    const sessionId = first.result.sessionId!;

    api.requests.length = 0;
    const second = await collectRun(agent().execute({ prompt: 'again, please', sessionId, timeoutMs: 60_000 }));
    expect(second.result.status).toBe('completed');
    expect(second.result.text).toBe('Resumed.');
    expect(second.result.sessionId).toBe(sessionId);
    // The fake model sees the first run's conversation: its prompt, the call and its output.
    const seen = JSON.stringify(calls().at(-1)!.body.input);
    expect(seen).toContain('please run echo');
    expect(seen).toContain('function_call_output');
    expect(seen).toContain('again, please');
  });

  it('an unknown session fails as SESSION_NOT_FOUND', async () => {
    const { result } = await collectRun(
      agent().execute({ prompt: 'hi', sessionId: '00000000-0000-4000-8000-000000000000', timeoutMs: 60_000 }),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_FOUND' } });
  });

  it('fails a run whose model API answers 401 as an auth error', async () => {
    responder = () => ({ status: 401, message: 'Incorrect API key provided (fake)' });
    const { result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 60_000 }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'API_AUTH_ERROR', retryable: false });
    expect(result.error?.message).toContain('401');
    expect(result.sessionId).toMatch(/\S/);
  });

  it('fails a run whose model API answers 500 as a retryable server error', async () => {
    responder = () => ({ status: 500 });
    const { result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 60_000 }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'API_SERVER_ERROR', retryable: true });
  });

  it('fails a run whose stream reports response.failed', async () => {
    responder = () => ({ failed: 'fake failure mid-response' });
    const { result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 60_000 }));
    expect(result.error?.code).toBe('API_STREAM_ERROR');
    expect(result.error?.message).toContain('fake failure mid-response');
  });

  it('ends a CLI waiting on a silent API with timeoutMs, and leaves no process', async () => {
    responder = () => ({ hang: true });
    const before = spawned.length;
    const { result } = await collectRun(agent().execute({ prompt: 'hello?', timeoutMs: 5_000 }));
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('TIMED_OUT');
    expect(result.sessionId).toMatch(/\S/);
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
  });

  it('ends a CLI retrying an unreachable server for ever with timeoutMs', async () => {
    const closed = await startFakeResponsesApi();
    const url = closed.url;
    await closed.close();
    const before = spawned.length;
    const { events, result } = await collectRun(
      agent({ provider: fakeResponsesProvider(url) }).execute({ prompt: 'hello?', timeoutMs: 8_000 }),
    );
    expect(result.status).toBe('timed_out');
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
      if (e.type === 'session.started') {
        await until(() => calls().length > 0);
        await new Promise((r) => setTimeout(r, 500));
        void run.cancel('enough');
      }
    }
    const result = await run.result;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.error?.code).toBe('CANCELLED');
    expect(ofType(events, 'message')).toEqual([]);
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    const procs = spawned.slice(before);
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) {
      // SIGINT was enough: the CLI exits 1 on it.
      expect((await p.exited).signal ?? 'none').not.toBe('SIGKILL');
      expect(alive(p.pid)).toBe(false);
    }
  });

  it('cancels while a shell command runs: the command is stopped too, and the session resumes', async () => {
    const marker = `sleep 47.${process.pid}`;
    responder = (req) =>
      req.hasToolOutput ? { text: 'done' } : req.lastUserText.includes('after') ? { text: 'Back.' } : { shell: marker };
    const before = spawned.length;
    const run = agent().execute({ prompt: 'wait a while' });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'tool.call') {
        await until(async () => (await processesWith(marker)).length > 0, 50);
        void run.cancel();
      }
    }
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(ofType(events, 'tool.call')).toHaveLength(1);
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
    expect(await processesWith(marker)).toEqual([]);

    const again = await collectRun(
      agent().execute({ prompt: 'after the cancel', sessionId: result.sessionId!, timeoutMs: 60_000 }),
    );
    expect(again.result).toMatchObject({ status: 'completed', text: 'Back.', sessionId: result.sessionId });
  });

  it('fails with a typed error before any event when the binary is missing', async () => {
    const missing = codex({ bin: join(scratch, 'no-such-codex') });
    const { events, result } = await collectRun(missing.execute({ prompt: 'hi' }));
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROCESS_SPAWN_FAILED');
    expect(result.error?.message).toMatch(/no-such-codex.*not found/);
    const caps = await missing.capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toMatch(/not found/);
  });
});

describe('codex with the real CLI: conformance', () => {
  let complete: FakeResponsesApi;
  let hang: FakeResponsesApi;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-codex-conf-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    complete = await startFakeResponsesApi({ respond: () => ({ text: 'Conformant.' }) });
    hang = await startFakeResponsesApi({ respond: () => ({ hang: true }) });
  });
  afterAll(async () => {
    await complete?.close();
    await hang?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  describeCodeAgentConformance('codex (real CLI 0.171.0)', {
    makeAgent: (scenario) =>
      codex({
        bin: codexBinPath(),
        cwd: scratch,
        model: 'fake-model',
        provider: fakeResponsesProvider((scenario === 'complete' ? complete : hang).url),
        env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
      }),
    testTimeoutMs: 60_000,
  });
});
