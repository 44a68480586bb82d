import { join } from 'node:path';
import { createProviderRegistry, type AgentEvent } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCode } from './agent.js';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/**
 * The real CLI (devDependency `@anthropic-ai/claude-code`) against the fake Messages API on
 * 127.0.0.1, with a scratch HOME (`claudeCliRig`). Each test scripts the fake's answers. Permissions and
 * questions: control-protocol.int.test.ts; warm sessions: warm-pool.int.test.ts.
 */
describe('claudeCode with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, spawned, turns, ofType, alive, processesWith } = rig;

  it('reports the CLI version it found', async () => {
    const caps = await agent().capabilities();
    expect(caps.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(caps).toMatchObject({ resume: true, cancel: true, textDeltas: true });
  });

  it('answers with text, streamed as deltas, and carries a tricky prompt intact', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
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
    rig.responder = (req) =>
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

    rig.api.requests.length = 0;
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
    rig.responder = () => ({ status: 500 });
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
    rig.responder = () => ({ status: 401 });
    const { result } = await collectRun(
      agent({ CLAUDE_CODE_MAX_RETRIES: '1' }).execute({ prompt: 'hi', timeoutMs: 30_000 }),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('API_AUTH_ERROR');
    expect(result.error?.message).toContain('401');
  });

  it('bounds the CLI retrying a failing API with timeoutMs: interrupted, not killed', async () => {
    rig.responder = () => ({ status: 500 });
    const before = spawned.length;
    // Long enough for a CLI started on a busy machine to see its first 500 and say it retries (5 s was not, at
    // load 9 in CI); the test waits it out, idle.
    const { events, result } = await collectRun(agent().execute({ prompt: 'hi', timeoutMs: 10_000 }));
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('TIMED_OUT');
    expect(result.sessionId).toMatch(/\S/);
    expect(ofType(events, 'error').some((e) => e.code === 'API_RETRY')).toBe(true);
    // The interrupt ended the turn; the process waits, warm, for the session's next turn.
    expect(alive(spawned[before]!.pid)).toBe(true);
  });

  it('cancels mid-answer with an interrupt: cancelled with the session id, the process kept, no signal', async () => {
    rig.responder = () => ({ text: 'one two three four five six seven eight nine ten', delayMs: 400 });
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
    rig.responder = (req) =>
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
    rig.responder = (req) =>
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
      rig.responder = (req) =>
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
    rig.responder = (req) =>
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
    rig.responder = (req) =>
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
    // Killed by close(); on a loaded machine the kernel may take a moment to take it off /proc.
    for (let i = 0; i < 50 && (await processesWith(marker)).length > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await processesWith(marker)).toEqual([]);
  });

  it('cancels while the API hangs', async () => {
    rig.responder = () => ({ hang: true });
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

  it("runs the root README's embedding example as written: run.respond on claude-code", async () => {
    rig.responder = (req) =>
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
      { prompt: 'Add a test for parseDate', cwd: rig.scratch, timeoutMs: 600_000 },
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
    const missing = claudeCode({ bin: join(rig.scratch, 'no-such-claude') });
    const { events, result } = await collectRun(missing.execute({ prompt: 'hi' }));
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROCESS_SPAWN_FAILED');
    const caps = await missing.capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toMatch(/not found/);
  });
});
