import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { codex } from '../agent.js';
import { agentOn, answerAll, askingTurn, item, ofType, textTurn } from '../test-support/app-server-turns.js';
import { completed, scriptedAppServer, threadAndTurn } from '../test-support/scripted-app-server.js';

describe('codex transport app-server (scripted server)', () => {
  it('starts `codex app-server`, shakes hands, starts a thread and a turn, and maps text deltas and usage', async () => {
    const { runner, agent } = agentOn(textTurn('Hello from the app server.'), {
      provider: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' },
    });
    const run = agent.execute({ prompt: 'hi', systemPrompt: 'SYS' });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Hello from the app server.', sessionId: 'thread-1' });
    expect(result.usage).toEqual({
      inputTokens: 15,
      outputTokens: 10,
      cacheReadTokens: 5,
      cacheWriteTokens: 0,
      reasoningTokens: 2,
    });
    expect(ofType(events, 'text.delta').map((d) => d.text)).toEqual(['Hello ', 'from ', 'the ', 'app ', 'server.']);
    expect(ofType(events, 'session.started')[0]).toMatchObject({ sessionId: 'thread-1', cwd: '/work' });
    const [server] = runner.servers;
    expect(server!.args[0]).toBe('app-server');
    expect(server!.args.join(' ')).toContain('model_provider="forge"');
    const methods = server!.received.map((m) => m.method);
    expect(methods).toEqual(['initialize', 'initialized', 'thread/start', 'turn/start']);
    expect(server!.received[2]!.params).toMatchObject({
      cwd: '/work',
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      model: 'm',
      developerInstructions: 'SYS',
    });
    expect(server!.received[3]!.params.input).toEqual([{ type: 'text', text: 'hi', text_elements: [] }]);
    await agent.close?.();
  });

  it.each([
    ['allow', 'accept'],
    ['allow_always', 'acceptForSession'],
    ['deny', 'decline'],
  ] as const)('a command approval becomes permission.requested (Bash); %s answers %s', async (decision, wire) => {
    const { runner, agent } = agentOn(
      askingTurn('item/commandExecution/requestApproval', { command: "/bin/bash -lc 'echo hi'", cwd: '/work' }),
    );
    const run = agent.execute({ prompt: 'x' });
    const { events, result } = await answerAll(run, async (e) => {
      if (e.type === 'permission.requested') await run.respond(e.id, decision);
    });
    expect(result.status).toBe('completed');
    expect(ofType(events, 'permission.requested')[0]).toMatchObject({
      tool: 'Bash',
      input: { command: "/bin/bash -lc 'echo hi'", cwd: '/work' },
    });
    expect(runner.servers[0]!.received.find((m) => m.id === 900)).toEqual({ id: 900, result: { decision: wire } });
    await agent.close?.();
  });

  it('acceptEdits accepts a file change inside the cwd without asking, and asks (Edit) for one outside', async () => {
    for (const [path, asks] of [
      ['/work/src/a.ts', false],
      ['/etc/passwd', true],
      ['/work/../etc/x', true],
    ] as const) {
      const change = {
        type: 'fileChange',
        id: 'call-1',
        status: 'inProgress',
        changes: [{ path, kind: { type: 'add' }, diff: '+x' }],
      };
      const { runner, agent } = agentOn(askingTurn('item/fileChange/requestApproval', { reason: null }, change), {
        permissionMode: 'acceptEdits',
      });
      const run = agent.execute({ prompt: 'x' });
      const { events } = await answerAll(run, async (e) => {
        if (e.type === 'permission.requested') await run.respond(e.id, 'deny');
      });
      const asked = ofType(events, 'permission.requested');
      expect(asked.length, path).toBe(asks ? 1 : 0);
      if (asks) expect(asked[0]!.tool).toBe('Edit');
      const answer = runner.servers[0]!.received.find((m) => m.id === 900);
      expect(answer?.result.decision, path).toBe(asks ? 'decline' : 'accept');
      await agent.close?.();
    }
  });

  it('a request_user_input becomes question.requested; answer() reaches the server by question id', async () => {
    const questions = [
      {
        id: 'colour',
        header: 'Colour',
        question: 'Which?',
        isOther: false,
        isSecret: false,
        options: [{ label: 'Blue', description: 'Calm.' }],
      },
    ];
    const { runner, agent } = agentOn(
      askingTurn('item/tool/requestUserInput', { questions, isBlocking: true, autoResolutionMs: null }),
    );
    const run = agent.execute({ prompt: 'x', permissionMode: 'plan' });
    const { events, result } = await answerAll(run, async (e) => {
      if (e.type === 'question.requested') await run.answer(e.id, [['Blue']]);
    });
    expect(result.status).toBe('completed');
    expect(ofType(events, 'question.requested')[0]!.questions).toEqual([
      {
        question: 'Which?',
        header: 'Colour',
        options: [{ label: 'Blue', description: 'Calm.' }],
        multiple: false,
        custom: false,
      },
    ]);
    const server = runner.servers[0]!;
    expect(server.received.find((m) => m.id === 900)).toEqual({
      id: 900,
      result: { answers: { colour: { answers: ['Blue'] } } },
    });
    // Plan mode: never asks, read-only, Codex's Plan collaboration mode.
    expect(server.received.find((m) => m.method === 'thread/start')!.params).toMatchObject({
      approvalPolicy: 'never',
      sandbox: 'read-only',
    });
    expect(server.received.find((m) => m.method === 'turn/start')!.params.collaborationMode).toMatchObject({
      mode: 'plan',
    });
    await agent.close?.();
  });

  it('cancel interrupts the turn (no signal) and a follow-up turn on the thread starts no process', async () => {
    const handler = threadAndTurn((s, { threadId, turnId }, m) => {
      if (m.params.input[0].text === 'again') s.send(completed(threadId, turnId));
      else
        s.send(
          item(threadId, turnId, false, {
            type: 'commandExecution',
            id: 'c1',
            command: 'sleep 9',
            cwd: '/work',
            status: 'inProgress',
          }),
        );
    });
    const { runner, agent } = agentOn((m, s) => {
      if (m.method === 'turn/interrupt') {
        s.send({ id: m.id, result: {} });
        s.send(completed(m.params.threadId, m.params.turnId, 'interrupted'));
      } else handler(m, s);
    });
    const run = agent.execute({ prompt: 'x' });
    for await (const e of run) if (e.type === 'tool.call') void run.cancel();
    const result = await run.result;
    expect(result).toMatchObject({ status: 'cancelled', sessionId: 'thread-1' });
    const server = runner.servers[0]!;
    expect(server.received.map((m) => m.method)).toContain('thread/backgroundTerminals/clean');
    expect(server.signals).toEqual([]);
    const again = await collectRun(agent.execute({ prompt: 'again', sessionId: 'thread-1' }));
    expect(again.result).toMatchObject({ status: 'completed', sessionId: 'thread-1' });
    expect(runner.spawns).toHaveLength(1);
    expect(server.received.map((m) => m.method)).not.toContain('thread/resume');
    await agent.close?.();
    expect(server.exited).toBe(true);
  });

  it('a server that ignores the interrupt is stopped after sigintGraceMs', async () => {
    const { runner, agent } = agentOn(
      threadAndTurn((s, { threadId, turnId }) =>
        s.send(
          item(threadId, turnId, false, {
            type: 'commandExecution',
            id: 'c1',
            command: 'x',
            cwd: '/',
            status: 'inProgress',
          }),
        ),
      ),
    );
    const run = agent.execute({ prompt: 'x', timeoutMs: 100 });
    const { result } = await collectRun(run);
    expect(result.status).toBe('timed_out');
    expect(runner.servers[0]!.received.map((m) => m.method)).toContain('turn/interrupt');
    expect(runner.servers[0]!.exited).toBe(true);
  });

  it('a dead server fails its turn with PROCESS_EXITED; the next run restarts it and resumes the thread', async () => {
    let first = true;
    const { runner, agent } = agentOn(
      threadAndTurn((s, { threadId, turnId }) => {
        if (first) {
          first = false;
          s.exit(null, 'SIGKILL');
        } else s.send(completed(threadId, turnId));
      }),
    );
    const a = await collectRun(agent.execute({ prompt: 'x' }));
    expect(a.result).toMatchObject({ status: 'failed', error: { code: 'PROCESS_EXITED' }, sessionId: 'thread-1' });
    const b = await collectRun(agent.execute({ prompt: 'y', sessionId: 'thread-1' }));
    expect(b.result).toMatchObject({ status: 'completed', sessionId: 'thread-1' });
    expect(runner.spawns).toHaveLength(2);
    expect(runner.servers[1]!.received.find((m) => m.method === 'thread/resume')!.params.threadId).toBe('thread-1');
    await agent.close?.();
  });

  it('maps a failed turn to the typed code, and an unknown thread to SESSION_NOT_FOUND', async () => {
    const { agent } = agentOn((m, s) => {
      if (m.method === 'thread/resume')
        s.send({ id: m.id, error: { code: -32600, message: 'no rollout found for thread id x' } });
      else
        threadAndTurn((s2, { threadId, turnId }) => {
          s2.notify('error', {
            threadId,
            turnId,
            willRetry: false,
            error: { message: 'unexpected status 401 Unauthorized: bad key', codexErrorInfo: null },
          });
          s2.send(
            completed(threadId, turnId, 'failed', {
              message: 'unexpected status 401 Unauthorized: bad key',
              codexErrorInfo: null,
            }),
          );
        })(m, s);
    });
    const failed = await collectRun(agent.execute({ prompt: 'x' }));
    expect(failed.result).toMatchObject({ status: 'failed', error: { code: 'API_AUTH_ERROR', retryable: false } });
    const missing = await collectRun(agent.execute({ prompt: 'x', sessionId: 'nope' }));
    expect(missing.result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_FOUND' } });
    await agent.close?.();
  });

  it('a second run on a thread whose turn is running fails SESSION_BUSY instead of steering it', async () => {
    const { runner, agent } = agentOn(
      threadAndTurn((s, { threadId, turnId }, m) => {
        if (m.params.input[0].text === 'first') setTimeout(() => s.send(completed(threadId, turnId)), 50);
      }),
    );
    const first = agent.execute({ prompt: 'first' });
    let sessionId: string | undefined;
    for await (const e of first) {
      if (e.type !== 'session.started') continue;
      sessionId = e.sessionId;
      break;
    }
    const second = await collectRun(agent.execute({ prompt: 'second', sessionId: sessionId! }));
    expect(second.result).toMatchObject({ status: 'failed', error: { code: 'SESSION_BUSY' } });
    expect((await first.result).status).toBe('completed');
    expect(runner.servers[0]!.received.filter((m) => m.method === 'turn/start')).toHaveLength(1);
    await agent.close?.();
  });

  it('a server that exits during the handshake fails the run with the reason from its stderr', async () => {
    const { agent } = agentOn((m, s) => {
      if (m.method !== 'initialize') return false;
      s.stderr('Error loading config.toml: unknown field `bogus`');
      s.exit(1);
      return true;
    });
    const { result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'CODEX_CONFIG_ERROR' } });
    expect(result.error?.message).toContain('unknown field');
  });

  it('stops an idle server after appServer.idleMs, and close() stops a warm one', async () => {
    const { runner, agent } = agentOn(textTurn('a'), { appServer: { idleMs: 20 } });
    await collectRun(agent.execute({ prompt: 'x' }));
    expect(runner.servers[0]!.exited).toBe(false);
    for (let i = 0; i < 100 && !runner.servers[0]!.exited; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runner.servers[0]!.exited).toBe(true);
    const again = await collectRun(agent.execute({ prompt: 'y' }));
    expect(again.result.status).toBe('completed');
    expect(runner.spawns).toHaveLength(2);
    expect(runner.servers[1]!.exited).toBe(false);
    await agent.close?.();
    expect(runner.servers[1]!.exited).toBe(true);
  });

  it('declares permission replies, questions and text deltas for app-server (the default) only', async () => {
    const { agent } = agentOn(textTurn('a'), { versionTimeoutMs: 10 });
    expect(await agent.capabilities()).toMatchObject({ permissionReplies: true, questions: true, textDeltas: true });
    const exec = codex({ transport: 'exec', runner: scriptedAppServer(() => undefined), versionTimeoutMs: 10 });
    const byDefault = codex({ runner: scriptedAppServer(() => undefined), versionTimeoutMs: 10 });
    expect(await byDefault.capabilities()).toMatchObject({
      permissionReplies: true,
      extra: { transport: 'app-server' },
    });
    expect(await exec.capabilities()).toMatchObject({ permissionReplies: false, questions: false, textDeltas: false });
    expect(() => codex({ transport: 'grpc' as never })).toThrow(RangeError);
  });
});
