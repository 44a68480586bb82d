import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createProviderRegistry,
  localProcessRunner,
  type AgentEvent,
  type CodeAgent,
  type ProcessRunner,
  type RunningProcess,
} from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { claudeCode, type ClaudeCodeOptions } from './agent.js';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
  type FakeResponder,
  toolResultText,
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

  const agents: CodeAgent[] = [];
  const agent = (env: Record<string, string> = {}, options: ClaudeCodeOptions = {}) => {
    const a = claudeCode({
      runner,
      bin: claudeBinPath(),
      cwd: scratch,
      env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home'), ...env },
      sigintGraceMs: 5_000,
      ...options,
    });
    agents.push(a);
    return a;
  };
  /** Closes the test's agents, then checks that no process they started is left. */
  const closeAll = async () => {
    for (const a of agents.splice(0)) await a.close?.();
    for (const p of spawned) expect(alive(p.pid)).toBe(false);
  };

  const turns = () =>
    api.requests.filter(
      (r) => r.method === 'POST' && r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'),
    );
  const toolResult = (req: { body: unknown }) => toolResultText(req.body);
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
  afterEach(closeAll);

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

  it('bounds the CLI retrying a failing API with timeoutMs: interrupted, not killed', async () => {
    responder = () => ({ status: 500 });
    const before = spawned.length;
    const { events, result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 5_000 }));
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('TIMED_OUT');
    expect(result.sessionId).toMatch(/\S/);
    expect(ofType(events, 'error').some((e) => e.code === 'API_RETRY')).toBe(true);
    // The interrupt ended the turn; the process waits, warm, for the session's next turn.
    expect(alive(spawned[before]!.pid)).toBe(true);
  });

  it('cancels mid-answer with an interrupt: cancelled with the session id, the process kept, no signal', async () => {
    responder = () => ({ text: 'one two three four five six seven eight nine ten', delayMs: 400 });
    const before = spawned.length;
    const a = agent();
    const run = a.execute({ prompt: 'talk slowly' });
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
    expect(procs).toHaveLength(1);
    expect(alive(procs[0]!.pid)).toBe(true);
    await a.close?.();
    // Closed through stdin: the CLI exits on its own (1: its last turn was interrupted), no signal needed.
    expect((await procs[0]!.exited).signal).toBeNull();
  });

  it('cancels while a Bash tool runs `sleep 300`: no tool process survives', async () => {
    const marker = `sleep 300.${process.pid}`;
    responder = (req) =>
      req.hasToolResult
        ? { text: 'done' }
        : { toolUse: { name: 'Bash', input: { command: marker, description: 'wait' } } };
    const run = agent().execute({ prompt: 'wait a while', allowedTools: ['Bash'] });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'tool.call') {
        // The cancel must come while the command really runs.
        await vi.waitFor(async () => expect(await processesWith(marker)).not.toEqual([]), { timeout: 10_000 });
        void run.cancel();
      }
    }
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
    await vi.waitFor(async () => expect(await processesWith(marker)).toEqual([]), { timeout: 5_000 });
  });

  it('cancel that falls back to signals (no grace for the interrupt): no tool process survives either', async () => {
    const marker = `sleep 301.${process.pid}`;
    responder = (req) =>
      req.hasToolResult
        ? { text: 'done' }
        : { toolUse: { name: 'Bash', input: { command: marker, description: 'wait' } } };
    const before = spawned.length;
    const run = agent({}, { sigintGraceMs: 1 }).execute({ prompt: 'wait a while', allowedTools: ['Bash'] });
    for await (const e of run) {
      if (e.type === 'tool.call') {
        await vi.waitFor(async () => expect(await processesWith(marker)).not.toEqual([]), { timeout: 10_000 });
        void run.cancel();
      }
    }
    expect((await run.result).status).toBe('cancelled');
    // The signals ended the CLI (it is not kept warm), and its tool with it.
    expect(alive(spawned[before]!.pid)).toBe(false);
    await vi.waitFor(async () => expect(await processesWith(marker)).toEqual([]), { timeout: 5_000 });
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
    // Not kept warm: the CLI ends with its run, and what its tool left must end with it.
    const run = agent({}, { warmSessions: false }).execute({ prompt: 'start it and wait', allowedTools: ['Bash'] });
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

  it('a warm CLI whose Bash tool left a process in the background takes it along when closed', async () => {
    const marker = `sleep 1014.${process.pid}`;
    responder = (req) =>
      req.hasToolResult
        ? { text: 'started' }
        : {
            toolUse: {
              name: 'Bash',
              input: { command: `nohup ${marker} > /dev/null 2>&1 &`, description: 'start something' },
            },
          };
    const a = agent();
    const { result } = await collectRun(a.execute({ prompt: 'start it', allowedTools: ['Bash'] }));
    expect(result.status).toBe('completed');
    expect(await processesWith(marker)).not.toEqual([]); // the process is warm, and so is what it left
    await a.close?.();
    expect(await processesWith(marker)).toEqual([]);
  });

  it('cancels while the API hangs', async () => {
    responder = () => ({ hang: true });
    const run = agent().execute({ prompt: 'hello?' });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'session.started') setTimeout(() => void run.cancel(), 300);
    }
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
  });

  describe('permissions and questions over the control protocol', () => {
    const writeOf = (name: string) => ({
      toolUse: { name: 'Write', input: { file_path: join(scratch, name), content: `${name}\n` } },
    });
    const exists = (name: string) =>
      stat(join(scratch, name)).then(
        () => true,
        () => false,
      );

    it('allow: the tool runs with its input', async () => {
      responder = (req) => (req.hasToolResult ? { text: 'Written.' } : writeOf('allowed.txt'));
      const run = agent().execute({ prompt: 'write a file' });
      const asked = await firstEvent(run, (e) => e.type === 'permission.requested').event;
      expect(asked).toMatchObject({ tool: 'Write', input: { file_path: join(scratch, 'allowed.txt') } });
      expect(await exists('allowed.txt')).toBe(false);
      await run.respond((asked as { id: string }).id, 'allow');
      const result = await run.result;
      expect(result).toMatchObject({ status: 'completed', text: 'Written.' });
      expect(await readFile(join(scratch, 'allowed.txt'), 'utf8')).toBe('allowed.txt\n');
      expect(turns().at(-1)!.hasToolResult).toBe(true);
    });

    it('deny: the model gets the message as an error result and the turn goes on', async () => {
      responder = (req) => (req.hasToolResult ? { text: `Refused: ${toolResult(req)}` } : writeOf('denied.txt'));
      const run = agent().execute({ prompt: 'write a file' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      await run.respond(((await reading.event) as { id: string }).id, 'deny', 'not in this repo');
      const [events, result] = await Promise.all([reading.all, run.result]);
      expect(result).toMatchObject({ status: 'completed', text: 'Refused: not in this repo' });
      expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true, output: 'not in this repo' });
      expect(await exists('denied.txt')).toBe(false);
    });

    it('allow_always: the suggested rule is applied, so the next write of the session is not asked for', async () => {
      responder = (req) =>
        !req.hasToolResult
          ? writeOf('always-1.txt')
          : turns().length === 2
            ? writeOf('always-2.txt')
            : { text: 'Both.' };
      const run = agent().execute({ prompt: 'write two files' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      await run.respond(((await reading.event) as { id: string }).id, 'allow_always');
      const [events, result] = await Promise.all([reading.all, run.result]);
      expect(result).toMatchObject({ status: 'completed', text: 'Both.' });
      expect(ofType(events, 'permission.requested')).toHaveLength(1);
      expect(await exists('always-1.txt')).toBe(true);
      expect(await exists('always-2.txt')).toBe(true);
    });

    it('a question: AskUserQuestion becomes question.requested, and the answer reaches the model', async () => {
      const questions = [
        {
          question: 'Which color do you prefer?',
          header: 'Color',
          multiSelect: false,
          options: [
            { label: 'Red', description: 'warm' },
            { label: 'Blue', description: 'cool' },
          ],
        },
      ];
      responder = (req) =>
        req.hasToolResult
          ? { text: `Noted: ${toolResult(req)}` }
          : { toolUse: { name: 'AskUserQuestion', input: { questions } } };
      const run = agent().execute({ prompt: 'ask me' });
      const asked = await firstEvent(run, (e) => e.type === 'question.requested').event;
      expect(asked).toMatchObject({
        questions: [
          {
            question: 'Which color do you prefer?',
            header: 'Color',
            multiple: false,
            custom: true,
            options: [
              { label: 'Red', description: 'warm' },
              { label: 'Blue', description: 'cool' },
            ],
          },
        ],
      });
      await run.answer((asked as { id: string }).id, [['Blue']]);
      const result = await run.result;
      expect(result.status).toBe('completed');
      expect(result.text).toContain('"Which color do you prefer?"="Blue"');
    });

    it('cancel while a permission waits: cancelled with the session, which then goes on in the same process', async () => {
      responder = (req) =>
        req.lastUserText.includes('go on')
          ? { text: 'Going on.' }
          : req.hasToolResult
            ? { text: 'x' }
            : writeOf('never.txt');
      const a = agent();
      const before = spawned.length;
      const run = a.execute({ prompt: 'write a file' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      const asked = (await reading.event) as { id: string };
      const result = await run.cancel('changed my mind');
      expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
      expect(result.sessionId).toMatch(/\S/);
      expect(runProblems(await reading.all, run.id)).toEqual([]);
      await expect(run.respond(asked.id, 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
      expect(await exists('never.txt')).toBe(false);

      const next = await collectRun(a.execute({ prompt: 'go on', sessionId: result.sessionId! }));
      expect(next.result).toMatchObject({ status: 'completed', text: 'Going on.', sessionId: result.sessionId });
      expect(spawned.length - before).toBe(1);
    });
  });

  describe('warm sessions', () => {
    it('a follow-up turn is written into the same process, which keeps the history', async () => {
      responder = (req) => ({ text: `You said: ${req.lastUserText}` });
      const a = agent();
      const before = spawned.length;
      const first = await collectRun(a.execute({ prompt: 'first' }));
      const sessionId = first.result.sessionId!;
      const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
      expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second', sessionId });
      expect(spawned.length - before).toBe(1);
      expect(alive(spawned[before]!.pid)).toBe(true);
      expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
      expect(ofType(second.events, 'session.started')[0]!.sessionId).toBe(sessionId);
    });

    it('options that differ start a fresh process with --resume', async () => {
      responder = (req) => ({ text: `You said: ${req.lastUserText}` });
      const a = agent();
      const before = spawned.length;
      const first = await collectRun(a.execute({ prompt: 'first' }));
      const sessionId = first.result.sessionId!;
      const second = await collectRun(a.execute({ prompt: 'second', sessionId, model: 'sonnet' }));
      expect(second.result).toMatchObject({ status: 'completed', sessionId });
      expect(spawned.length - before).toBe(2);
      // The first one was ended: one session, one writer.
      await vi.waitFor(() => expect(alive(spawned[before]!.pid)).toBe(false));
    });

    it('an idle process is ended after idleMs; the next turn resumes cold', async () => {
      responder = (req) => ({ text: `You said: ${req.lastUserText}` });
      const a = agent({}, { warmSessions: { idleMs: 200 } });
      const before = spawned.length;
      const first = await collectRun(a.execute({ prompt: 'first' }));
      await vi.waitFor(() => expect(alive(spawned[before]!.pid)).toBe(false), { timeout: 10_000 });
      const sessionId = first.result.sessionId!;
      const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
      expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second', sessionId });
      expect(spawned.length - before).toBe(2);
      expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
    });

    it('a warm process killed between turns is replaced by a cold --resume, transparently', async () => {
      responder = (req) => ({ text: `You said: ${req.lastUserText}` });
      const a = agent();
      const before = spawned.length;
      const first = await collectRun(a.execute({ prompt: 'first' }));
      const sessionId = first.result.sessionId!;
      // The CLI writes the session's transcript shortly after its result; a process killed before that has nothing
      // to resume (the cold start then says "No conversation found"). "Between turns" means after it did.
      await vi.waitFor(
        async () => {
          const files = await readdir(join(scratch, 'home', '.claude', 'projects'), { recursive: true });
          expect(files.some((f) => String(f).endsWith(`${sessionId}.jsonl`))).toBe(true);
        },
        { timeout: 10_000, interval: 50 },
      );
      spawned[before]!.kill('SIGKILL');
      await spawned[before]!.exited;
      const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
      expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second' });
      expect(spawned.length - before).toBe(2);
      expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
    });

    it('close() ends every warm process', async () => {
      responder = (req) => ({ text: `You said: ${req.lastUserText}` });
      const a = agent();
      const before = spawned.length;
      await Promise.all([collectRun(a.execute({ prompt: 'one' })), collectRun(a.execute({ prompt: 'two' }))]);
      const procs = spawned.slice(before);
      expect(procs).toHaveLength(2);
      for (const p of procs) expect(alive(p.pid)).toBe(true);
      await a.close?.();
      for (const p of procs) expect(alive(p.pid)).toBe(false);
    });

    it('warmSessions: false ends the process with its run', async () => {
      responder = () => ({ text: 'Done.' });
      const before = spawned.length;
      const { result } = await collectRun(agent({}, { warmSessions: false }).execute({ prompt: 'x' }));
      expect(result.status).toBe('completed');
      expect(alive(spawned[before]!.pid)).toBe(false);
    });
  });

  it("runs the root README's embedding example as written: run.respond on claude-code", async () => {
    responder = (req) =>
      req.hasToolResult
        ? { text: 'Added the test.' }
        : req.lastUserText.includes('docs')
          ? { text: 'Docs done.' }
          : { toolUse: { name: 'Bash', input: { command: 'node -e "process.exit(0)"', description: 'run node' } } };
    const agents = createProviderRegistry();
    agents.register('claude-code', () => agent({}, { permissionMode: 'acceptEdits' }));
    const registered = await agents.get('claude-code');
    const controller = new AbortController();
    const run = registered.execute(
      { prompt: 'Add a test for parseDate', cwd: scratch, timeoutMs: 600_000 },
      { signal: controller.signal },
    );
    const seen: string[] = [];
    for await (const event of run) {
      seen.push(event.type);
      if (event.type === 'permission.requested') await run.respond(event.id, 'allow');
    }
    const result = await run.result;
    expect(seen).toContain('permission.requested');
    expect(result).toMatchObject({ status: 'completed', text: 'Added the test.' });
    const later = await agents
      .get('claude-code')
      .then((a) => a.execute({ prompt: 'and now the docs', sessionId: result.sessionId! }).result);
    expect(later).toMatchObject({ status: 'completed', text: 'Docs done.' });
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
