import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentEvent,
  type AgentRun,
  localProcessRunner,
  type ProcessRunner,
  type RunningProcess,
} from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CodexOptions, codex } from './agent.js';
import {
  codexBinPath,
  type FakeResponsesApi,
  type FakeResponsesResponder,
  fakeResponsesProvider,
  startFakeResponsesApi,
} from './testing/index.js';

/**
 * `transport: 'app-server'`: the real CLI (0.171.0) as `codex app-server`, driven over JSON-RPC on stdio, against
 * the fake Responses API on 127.0.0.1, with a scratch CODEX_HOME.
 */
const QUESTION = {
  id: 'colour',
  header: 'Colour',
  question: 'Which colour?',
  options: [
    { label: 'Blue', description: 'Calm.' },
    { label: 'Red', description: 'Loud.' },
  ],
};

describe('codex app-server with the real CLI against a fake Responses API', () => {
  let api: FakeResponsesApi;
  let scratch: string;
  let responder: FakeResponsesResponder = () => ({ text: 'unset' });
  const spawned: RunningProcess[] = [];
  const agents: Array<{ close?(): Promise<void> }> = [];

  const local = localProcessRunner();
  const runner: ProcessRunner = {
    async spawn(command, args, options) {
      const p = await local.spawn(command, args, options);
      spawned.push(p);
      return p;
    },
  };

  const agent = (options: Partial<CodexOptions> = {}) => {
    const a = codex({
      transport: 'app-server',
      runner,
      bin: codexBinPath(),
      cwd: scratch,
      model: 'fake-model',
      provider: fakeResponsesProvider(api.url),
      env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
      sigintGraceMs: 3_000,
      ...options,
    });
    agents.push(a);
    return a;
  };

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
  const processesWith = async (marker: string) => {
    const found: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
      if (cmd.includes(marker)) found.push(pid);
    }
    return found;
  };
  const until = async (check: () => boolean | Promise<boolean>, tries = 100) => {
    for (let i = 0; i < tries && !(await check()); i++) await new Promise((r) => setTimeout(r, 100));
  };
  /** Reads a run, answering each permission request with `decide`. */
  const drive = async (run: AgentRun, decide: (e: Extract<AgentEvent, { type: 'permission.requested' }>) => string) => {
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'permission.requested') await run.respond(e.id, decide(e) as 'allow' | 'allow_always' | 'deny');
    }
    return { events, result: await run.result };
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-codex-as-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    api = await startFakeResponsesApi({ respond: (req) => responder(req) });
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close?.()));
  });
  afterAll(async () => {
    for (const p of spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });

  it('declares permission replies, questions and text deltas', async () => {
    const caps = await agent().capabilities();
    expect(caps).toMatchObject({ permissionReplies: true, questions: true, textDeltas: true, version: '0.171.0' });
    expect(caps.extra?.transport).toBe('app-server');
  });

  it('streams text as deltas, then the message, usage and the thread id as session', async () => {
    responder = (req) => ({ text: `You said: ${req.lastUserText}`, reasoning: 'Thinking it over.' });
    const run = agent().execute({ prompt: 'hello there', systemPrompt: 'FORGE-SYSTEM-MARKER', timeoutMs: 60_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'You said: hello there', turns: 1 });
    const deltas = ofType(events, 'text.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join('')).toBe('You said: hello there');
    expect(ofType(events, 'message').at(-1)!.text).toBe(result.text);
    expect(ofType(events, 'reasoning')[0]!.text).toBe('Thinking it over.');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(JSON.stringify(api.requests.at(-1)!.body.input)).toContain('FORGE-SYSTEM-MARKER');
  });

  it('asks before a command; allow runs it', async () => {
    responder = (req) =>
      req.hasToolOutput ? { text: `The command printed ${req.toolOutput.trim()}.` } : { shell: 'echo hi' };
    const { events, result } = await drive(agent().execute({ prompt: 'run echo', timeoutMs: 60_000 }), () => 'allow');
    expect(result.status).toBe('completed');
    const asked = ofType(events, 'permission.requested');
    expect(asked).toHaveLength(1);
    expect(asked[0]!.tool).toBe('Bash');
    expect(String((asked[0]!.input as { command: string }).command)).toContain('echo hi');
    const call = ofType(events, 'tool.call')[0]!;
    expect(call.name).toBe('shell');
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ callId: call.callId, output: 'hi\n', isError: false });
    expect(result.text).toContain('The command printed hi');
  });

  it('deny declines the command: it never runs and the model goes on', async () => {
    const marker = join(scratch, `denied-${Date.now()}`);
    responder = (req) => (req.hasToolOutput ? { text: 'Understood.' } : { shell: `touch ${marker}` });
    const { events, result } = await drive(agent().execute({ prompt: 'touch it', timeoutMs: 60_000 }), () => 'deny');
    expect(result).toMatchObject({ status: 'completed', text: 'Understood.' });
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true });
    await expect(readFile(marker)).rejects.toThrow();
  });

  it('allow_always: the same command does not ask again in the thread; another one does', async () => {
    responder = (req) =>
      req.hasToolOutput
        ? { text: `ran ${req.toolOutput.trim()}` }
        : { shell: `echo ${req.lastUserText.split(' ')[1]}` };
    const a = agent();
    const first = await drive(a.execute({ prompt: 'say one', timeoutMs: 60_000 }), () => 'allow_always');
    expect(first.result.status).toBe('completed');
    expect(ofType(first.events, 'permission.requested')).toHaveLength(1);
    const sessionId = first.result.sessionId!;
    const second = await drive(a.execute({ prompt: 'say one', sessionId, timeoutMs: 60_000 }), () => 'deny');
    expect(ofType(second.events, 'permission.requested')).toHaveLength(0);
    expect(second.result).toMatchObject({ status: 'completed', text: 'ran one' });
    // Codex's acceptForSession remembers the exact command, not every command.
    const third = await drive(a.execute({ prompt: 'say two', sessionId, timeoutMs: 60_000 }), () => 'deny');
    expect(ofType(third.events, 'permission.requested')).toHaveLength(1);
    expect(third.result.status).toBe('completed');
  });

  it("asks the model's question (request_user_input) and the answer reaches it", async () => {
    responder = (req) =>
      req.hasToolOutput
        ? { text: `Answer: ${req.toolOutput}` }
        : { call: { name: 'request_user_input', arguments: { questions: [QUESTION] } } };
    const run = agent({ permissionMode: 'plan' }).execute({ prompt: 'ask me', timeoutMs: 60_000 });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'question.requested') await run.answer(e.id, [['Blue']]);
    }
    const result = await run.result;
    const asked = ofType(events, 'question.requested')[0]!;
    expect(asked.questions).toEqual([
      {
        question: 'Which colour?',
        header: 'Colour',
        options: [
          { label: 'Blue', description: 'Calm.' },
          { label: 'Red', description: 'Loud.' },
        ],
        multiple: false,
        // Codex adds a free-form "Other" to every question (`isOther`).
        custom: true,
      },
    ]);
    expect(result.status).toBe('completed');
    expect(result.text).toContain('Blue');
  });

  it('a follow-up turn on the same thread starts no process; close() leaves none', async () => {
    responder = (req) => ({ text: req.lastUserText.includes('again') ? 'Second.' : 'First.' });
    const a = agent();
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first', timeoutMs: 60_000 }));
    expect(first.result).toMatchObject({ status: 'completed', text: 'First.' });
    expect(spawned.length - before).toBe(1);
    const second = await collectRun(
      a.execute({ prompt: 'again', sessionId: first.result.sessionId!, timeoutMs: 60_000 }),
    );
    expect(second.result).toMatchObject({ status: 'completed', text: 'Second.', sessionId: first.result.sessionId });
    expect(spawned.length - before).toBe(1);
    expect(JSON.stringify(api.requests.at(-1)!.body.input)).toContain('first');
    await a.close?.();
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
  });

  it('a dead app server is restarted and the thread resumed', async () => {
    responder = (req) => ({ text: req.lastUserText.includes('again') ? 'Resumed.' : 'First.' });
    const a = agent();
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first', timeoutMs: 60_000 }));
    spawned.at(-1)!.kill('SIGKILL');
    await spawned.at(-1)!.exited;
    const second = await collectRun(
      a.execute({ prompt: 'again', sessionId: first.result.sessionId!, timeoutMs: 60_000 }),
    );
    expect(second.result).toMatchObject({ status: 'completed', text: 'Resumed.', sessionId: first.result.sessionId });
    expect(spawned.length - before).toBe(2);
    expect(JSON.stringify(api.requests.at(-1)!.body.input)).toContain('first');
  });

  it('cancel mid-tool interrupts the turn, kills the tool, and the thread continues', async () => {
    // bash execs a lone command: the process's argv is `sleep 46.<pid>`, which is what is looked for.
    const marker = `sleep 46.${process.pid}`;
    responder = (req) =>
      req.hasToolOutput ? { text: 'done' } : req.lastUserText.includes('after') ? { text: 'Back.' } : { shell: marker };
    const a = agent({ permissionMode: 'bypassPermissions' });
    const before = spawned.length;
    const run = a.execute({ prompt: 'wait a while' });
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
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    await until(async () => (await processesWith(marker)).length === 0, 50);
    expect(await processesWith(marker)).toEqual([]);
    const again = await collectRun(
      a.execute({ prompt: 'after the cancel', sessionId: result.sessionId!, timeoutMs: 60_000 }),
    );
    expect(again.result).toMatchObject({ status: 'completed', text: 'Back.', sessionId: result.sessionId });
    // Interrupted, not killed: the same process served the next turn.
    expect(spawned.length - before).toBe(1);
  });

  it('fails with PROCESS_SPAWN_FAILED before any event when the binary is missing', async () => {
    const { events, result } = await collectRun(
      agent({ bin: join(scratch, 'no-such-codex') }).execute({ prompt: 'hi' }),
    );
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'PROCESS_SPAWN_FAILED' } });
  });

  it('fails a run whose model API answers 401 as an auth error', async () => {
    responder = () => ({ status: 401, message: 'Incorrect API key provided (fake)' });
    const { result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 60_000 }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'API_AUTH_ERROR', retryable: false } });
    expect(result.sessionId).toMatch(/\S/);
  });

  it('fails a run whose model API answers 500 as a retryable server error', async () => {
    responder = () => ({ status: 500 });
    const { result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 60_000 }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'API_SERVER_ERROR', retryable: true } });
  });

  it('an unknown session fails as SESSION_NOT_FOUND', async () => {
    const { result } = await collectRun(
      agent().execute({ prompt: 'hi', sessionId: '00000000-0000-4000-8000-000000000000', timeoutMs: 60_000 }),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_FOUND' } });
  });

  it('ends a turn waiting on a silent API with timeoutMs, and leaves no process after close()', async () => {
    responder = () => ({ hang: true });
    const a = agent();
    const before = spawned.length;
    const { result } = await collectRun(a.execute({ prompt: 'hello?', timeoutMs: 3_000 }));
    expect(result.status).toBe('timed_out');
    expect(result.sessionId).toMatch(/\S/);
    await a.close?.();
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
  });
});

describe('codex app-server with the real CLI: conformance', () => {
  let complete: FakeResponsesApi;
  let hang: FakeResponsesApi;
  let permission: FakeResponsesApi;
  let question: FakeResponsesApi;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-codex-as-conf-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    complete = await startFakeResponsesApi({ respond: () => ({ text: 'Conformant.' }) });
    hang = await startFakeResponsesApi({ respond: () => ({ hang: true }) });
    permission = await startFakeResponsesApi({
      respond: (req) => (req.hasToolOutput ? { text: 'Conformant.' } : { shell: 'echo hi' }),
    });
    question = await startFakeResponsesApi({
      respond: (req) =>
        req.hasToolOutput
          ? { text: 'Conformant.' }
          : { call: { name: 'request_user_input', arguments: { questions: [QUESTION] } } },
    });
  });
  afterAll(async () => {
    await complete?.close();
    await hang?.close();
    await permission?.close();
    await question?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  describeCodeAgentConformance('codex app-server (real CLI 0.171.0)', {
    makeAgent: (scenario) =>
      codex({
        transport: 'app-server',
        bin: codexBinPath(),
        cwd: scratch,
        model: 'fake-model',
        provider: fakeResponsesProvider({ complete, hang, permission, question }[scenario].url),
        env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
        // Questions exist only in Codex's Plan mode.
        ...(scenario === 'question' ? { permissionMode: 'plan' as const } : {}),
        sigintGraceMs: 3_000,
      }),
    // One app server per scenario for the suite, each run a thread of its own: the server holds many.
    shareAgents: true,
    testTimeoutMs: 60_000,
  });
});
