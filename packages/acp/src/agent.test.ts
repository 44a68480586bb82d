import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AgentEvent, CodeAgent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type AcpAgentOptions, acpAgent } from './agent.js';
import { type ScriptedAcpOptions, scriptedAcpRunner } from './test-support/scripted-acp.js';

const agents: CodeAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close?.();
});

function make(script: ScriptedAcpOptions = {}, extra: Partial<AcpAgentOptions> = {}) {
  const runner = scriptedAcpRunner(script);
  const agent = acpAgent({
    command: 'scripted-acp',
    args: ['--acp'],
    runner,
    cwd: '/work',
    closeGraceMs: 50,
    ...extra,
  });
  agents.push(agent);
  return { agent, runner };
}

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

describe('acpAgent over a scripted ACP agent', () => {
  it('maps a text turn: session.started, deltas, one message, completed with the session id', async () => {
    const { agent, runner } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'hello' }));
    expect(runProblems(events)).toEqual([]);
    expect(events.map((e) => e.type)).toEqual([
      'session.started',
      'text.delta',
      'text.delta',
      'message',
      'run.completed',
    ]);
    const started = ofType(events, 'session.started')[0]!;
    expect(started).toMatchObject({
      sessionId: 'sess-50000-1'.replace('50000', String(runner.processes[0]!.pid)),
      cwd: '/work',
      model: 'fast',
      permissionMode: 'default',
    });
    expect(ofType(events, 'message')[0]!.text).toBe('Hello there.');
    expect(result).toMatchObject({ status: 'completed', text: 'Hello there.', sessionId: started.sessionId, turns: 1 });
    // raw is the agent's message, untouched.
    expect(ofType(events, 'text.delta')[0]!.raw).toMatchObject({
      method: 'session/update',
      params: { update: { sessionUpdate: 'agent_message_chunk' } },
    });
    const init = runner.processes[0]!.received[0]!;
    expect(init).toMatchObject({
      method: 'initialize',
      params: {
        protocolVersion: 1,
        clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      },
    });
  });

  it('keeps one process across runs and sessions, and continues a session it has', async () => {
    const { agent, runner } = make();
    const first = await agent.execute({ prompt: 'one' }).result;
    const second = await agent.execute({ prompt: 'two' }).result;
    const third = await agent.execute({ prompt: 'three', sessionId: first.sessionId }).result;
    expect(runner.processes).toHaveLength(1);
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(third.sessionId).toBe(first.sessionId);
    const methods = runner.processes[0]!.received.map((r) => r.method);
    expect(methods.filter((m) => m === 'initialize')).toHaveLength(1);
    expect(methods.filter((m) => m === 'session/new')).toHaveLength(2);
    expect(methods).not.toContain('session/load');
  });

  it('maps tool calls once (claude repeats tool_call with the input) and their results', async () => {
    const { agent } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'tool please' }));
    expect(events.map((e) => e.type)).toEqual([
      'session.started',
      'text.delta',
      'message',
      'tool.call',
      'tool.result',
      'text.delta',
      'message',
      'run.completed',
    ]);
    expect(ofType(events, 'tool.call')[0]).toMatchObject({
      callId: 'call_1',
      name: 'Bash',
      input: { command: 'echo hi' },
    });
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ callId: 'call_1', output: 'hi', isError: false });
    expect(result.text).toBe('The command printed hi.');
  });

  it('maps thoughts to reasoning, each plan to plan.updated (the whole plan), commands to logs, and an unknown update kind to a log with its raw message', async () => {
    const { agent } = make();
    const thought = await collectRun(agent.execute({ prompt: 'thought' }));
    expect(ofType(thought.events, 'reasoning')[0]!.text).toBe('pondering');
    const plan = await collectRun(agent.execute({ prompt: 'plan' }));
    expect(runProblems(plan.events)).toEqual([]);
    expect(ofType(plan.events, 'plan.updated').map((p) => p.entries)).toEqual([
      [{ content: 'step one', priority: 'high', status: 'pending' }],
      [
        { content: 'step one', priority: 'high', status: 'completed' },
        { content: 'step two', priority: 'low', status: 'in_progress' },
      ],
    ]);
    expect(ofType(plan.events, 'plan.updated')[0]!.raw).toMatchObject({
      params: { update: { sessionUpdate: 'plan' } },
    });
    const logs = ofType(plan.events, 'log').map((l) => l.text);
    expect(logs).toContain('available commands: /init');
    const unknown = await collectRun(agent.execute({ prompt: 'unknown' }));
    const log = ofType(unknown.events, 'log').find((l) => l.text.includes('hologram_update'))!;
    expect(log.raw).toMatchObject({ params: { update: { sessionUpdate: 'hologram_update', beam: 3 } } });
    expect(unknown.result.status).toBe('completed');
  });

  it('reports usage from the prompt result', async () => {
    const { agent } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'usage' }));
    expect(ofType(events, 'usage')[0]!.usage).toMatchObject({ inputTokens: 120, outputTokens: 7 });
    expect(result.usage).toMatchObject({ inputTokens: 120, outputTokens: 7 });
  });

  it('turns stop reasons other than end_turn into failures with a code', async () => {
    const { agent } = make();
    const max = await agent.execute({ prompt: 'maxtokens' }).result;
    expect(max).toMatchObject({ status: 'failed', error: { code: 'MAX_TOKENS' }, text: 'cut' });
    const refusal = await agent.execute({ prompt: 'refusal' }).result;
    expect(refusal).toMatchObject({ status: 'failed', error: { code: 'REFUSAL' } });
  });

  it('fails a turn the agent answers with an error, typed, and the session stays usable', async () => {
    const { agent } = make();
    const failed = await agent.execute({ prompt: 'error' }).result;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'ACP_RPC_ERROR' });
    expect(failed.error!.message).toContain('scripted failure');
    const api = await agent.execute({ prompt: 'api500', sessionId: failed.sessionId }).result;
    expect(api.status).toBe('failed');
    expect(api.error).toMatchObject({ code: 'API_ERROR', retryable: true });
    const again = await agent.execute({ prompt: 'hi', sessionId: failed.sessionId }).result;
    expect(again.status).toBe('completed');
  });

  describe('permissions', () => {
    it.each([
      ['allow', 'proceed_once', 'completed'],
      ['allow_always', 'proceed_always', 'completed'],
      ['deny', 'cancel', 'failed'],
    ] as const)('%s picks option %s', async (decision, optionId, toolStatus) => {
      const { agent, runner } = make();
      const run = agent.execute({ prompt: 'permission' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      const asked = (await reading.event) as Extract<AgentEvent, { type: 'permission.requested' }>;
      expect(asked).toMatchObject({ tool: 'edit', input: { file_path: '/work/a.txt', content: 'x' } });
      await run.respond(asked.id, decision);
      const events = await reading.all;
      expect(runProblems(events)).toEqual([]);
      // The tool call is announced before its permission request, even when the agent asks first.
      const types = events.map((e) => e.type);
      expect(types.indexOf('tool.call')).toBeLessThan(types.indexOf('permission.requested'));
      expect(ofType(events, 'tool.result')[0]!.isError).toBe(toolStatus === 'failed');
      expect((await run.result).status).toBe('completed');
      const answer = runner.processes[0]!.received.find((r) => r.method === 'permission-answer')!;
      expect(answer.params).toEqual({ outcome: { outcome: 'selected', optionId } });
      await expect(run.respond(asked.id, 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    });

    it('refuses an unknown permission id', async () => {
      const { agent } = make();
      const run = agent.execute({ prompt: 'permission' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      const asked = (await reading.event) as Extract<AgentEvent, { type: 'permission.requested' }>;
      await expect(run.respond('nope', 'allow')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
      await run.respond(asked.id, 'deny');
      await reading.all;
    });

    it('cancel while a permission is pending answers it `cancelled` and ends the run once, cancelled, with the session id', async () => {
      const { agent, runner } = make();
      const run = agent.execute({ prompt: 'permission' });
      const reading = firstEvent(run, (e) => e.type === 'permission.requested');
      await reading.event;
      const result = await run.cancel();
      const events = await reading.all;
      expect(runProblems(events)).toEqual([]);
      expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
      expect(result.sessionId).toBe(ofType(events, 'session.started')[0]!.sessionId);
      const received = runner.processes[0]!.received;
      expect(received.find((r) => r.method === 'permission-answer')!.params).toEqual({
        outcome: { outcome: 'cancelled' },
      });
      expect(received.some((r) => r.method === 'session/cancel')).toBe(true);
      // The session goes on.
      expect((await agent.execute({ prompt: 'hi', sessionId: result.sessionId }).result).status).toBe('completed');
    });
  });

  it('cancel mid-turn sends session/cancel and keeps the session id', async () => {
    const { agent, runner } = make();
    const run = agent.execute({ prompt: 'hang' });
    const reading = firstEvent(run, (e) => e.type === 'text.delta');
    await reading.event;
    const result = await run.cancel();
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toMatch(/^sess-/);
    expect(runner.processes[0]!.received.filter((r) => r.method === 'session/cancel')).toHaveLength(1);
    expect(ofType(await reading.all, 'run.completed')).toHaveLength(1);
  });

  it('cancel mid-tool announces the call and ends cancelled', async () => {
    const { agent } = make();
    const run = agent.execute({ prompt: 'toolhang' });
    const reading = firstEvent(run, (e) => e.type === 'tool.call');
    await reading.event;
    const result = await run.cancel();
    expect(result.status).toBe('cancelled');
    expect(runProblems(await reading.all)).toEqual([]);
  });

  it('a process that dies mid-run fails the run, retryable, with the stderr tail; the next run starts a new process', async () => {
    const { agent, runner } = make();
    const { events, result } = await collectRun(agent.execute({ prompt: 'die' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'ACP_PROCESS_EXITED', retryable: true });
    expect(result.error!.message).toContain('exited with code 137');
    expect(result.error!.message).toContain('dying mid-turn');
    const next = await agent.execute({ prompt: 'hi' }).result;
    expect(next.status).toBe('completed');
    expect(runner.processes).toHaveLength(2);
    // A session of the dead process is continued in the new one with session/load, its history not replayed as events.
    const resumed = await collectRun(agent.execute({ prompt: 'hi', sessionId: result.sessionId }));
    expect(resumed.result).toMatchObject({ status: 'completed', sessionId: result.sessionId });
    expect(runner.processes[1]!.received.map((r) => r.method)).toContain('session/load');
    expect(ofType(resumed.events, 'message').map((m) => m.text)).toEqual(['Hello there.']);
  });

  it('refuses to continue a session when the agent offers neither load nor resume', async () => {
    const { agent } = make({ initialize: { agentCapabilities: { loadSession: false } } });
    const result = await agent.execute({ prompt: 'hi', sessionId: 'elsewhere' }).result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED' } });
    expect((await agent.capabilities()).resume).toBe(false);
  });

  it('a session the agent cannot load fails with ACP_SESSION_NOT_FOUND', async () => {
    const { agent } = make();
    const result = await agent.execute({ prompt: 'hi', sessionId: 'gone' }).result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ACP_SESSION_NOT_FOUND' } });
  });

  it('sets the mode and the model the request asks for, and refuses ones the agent lacks', async () => {
    const { agent, runner } = make({}, { modes: { acceptEdits: 'acceptEdits' } });
    const ok = await agent.execute({ prompt: 'hi', permissionMode: 'acceptEdits', model: 'smart' }).result;
    expect(ok.status).toBe('completed');
    const received = runner.processes[0]!.received;
    expect(received.find((r) => r.method === 'session/set_mode')!.params).toMatchObject({ modeId: 'acceptEdits' });
    expect(received.find((r) => r.method === 'session/set_model')!.params).toMatchObject({ modelId: 'smart' });
    const badMode = await agent.execute({ prompt: 'hi', permissionMode: 'bypassPermissions' }).result;
    expect(badMode).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED' } });
    const badModel = await agent.execute({ prompt: 'hi', model: 'huge' }).result;
    expect(badModel).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED' } });
  });

  it('sends attachments the agent can take and refuses the rest', async () => {
    const { agent, runner } = make();
    const ok = await agent.execute({
      prompt: 'hi',
      attachments: [
        { kind: 'file', path: '/work/notes.md' },
        { kind: 'image', data: 'aGk=', mimeType: 'image/png' },
      ],
    }).result;
    expect(ok.status).toBe('completed');
    const prompt = runner.processes[0]!.received.find((r) => r.method === 'session/prompt')!.params as {
      prompt: unknown[];
    };
    expect(prompt.prompt).toEqual([
      { type: 'text', text: 'hi' },
      { type: 'resource_link', uri: 'file:///work/notes.md', name: 'notes.md' },
      { type: 'image', data: 'aGk=', mimeType: 'image/png' },
    ]);
    // embeddedContext is not offered by this agent: refused before a session is opened.
    const sessions = () => runner.processes[0]!.received.filter((r) => r.method === 'session/new').length;
    const before = sessions();
    const refused = await agent.execute({ prompt: 'hi', attachments: [{ kind: 'file', data: 'aGk=', name: 'a.txt' }] })
      .result;
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
    expect(refused.error!.message).toContain('embeddedContext');
    expect(sessions()).toBe(before);
  });

  it('refuses an image when the agent does not offer promptCapabilities.image (a probed capability)', async () => {
    const { agent, runner } = make({ initialize: { agentCapabilities: { promptCapabilities: { image: false } } } });
    const image = { kind: 'image' as const, data: 'aGk=', mimeType: 'image/png' };
    const refused = await agent.execute({ prompt: 'hi', attachments: [image] }).result;
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } });
    expect(refused.error!.message).toContain('promptCapabilities.image');
    expect(runner.processes[0]!.received.map((r) => r.method)).toEqual(['initialize']);
    expect((await agent.capabilities()).images).toBe(false);
  });

  it('refuses request fields ACP has no place for', async () => {
    const { agent } = make();
    for (const extra of [{ systemPrompt: 'x' }, { allowedTools: ['Bash'] }, { maxTurns: 2 }, { env: { A: '1' } }]) {
      expect(() => agent.execute({ prompt: 'hi', ...extra })).toThrow(
        expect.objectContaining({ code: 'UNSUPPORTED_FIELD', fields: [Object.keys(extra)[0]] }),
      );
    }
  });

  it('reports what initialize returned', async () => {
    const { agent } = make();
    const caps = await agent.capabilities();
    expect(caps).toMatchObject({
      resume: true,
      cancel: true,
      permissionReplies: true,
      textDeltas: true,
      images: true,
      version: '9.9.9',
      extra: { loadSession: true, agentInfo: { name: 'scripted-acp' }, promptCapabilities: { image: true } },
    });
    await agent.execute({ prompt: 'hi' }).result;
    expect((await agent.capabilities()).models).toEqual(['fast', 'smart']);
  });

  it('a process that cannot start fails the run with its stderr; one that never initializes times out', async () => {
    const crash = make({ crashOnStart: { stderr: 'Invalid auth method selected.\n', code: 41 } }).agent;
    const r = await crash.execute({ prompt: 'hi' }).result;
    expect(r.status).toBe('failed');
    expect(r.error!.code).toBe('PROCESS_SPAWN_FAILED');
    expect(r.error!.message).toContain('Invalid auth method selected.');
    const silent = make({ silentInitialize: true }, { initializeTimeoutMs: 50 });
    const s = await silent.agent.execute({ prompt: 'hi' }).result;
    expect(s).toMatchObject({ status: 'failed', error: { code: 'ACP_INITIALIZE_FAILED' } });
    expect(silent.runner.processes[0]!.exit).toBeDefined();
  });

  it('close() ends the process: stdin closed, nothing left running; the agent refuses runs afterwards', async () => {
    const { agent, runner } = make();
    await agent.execute({ prompt: 'hi' }).result;
    await agent.close?.();
    expect(runner.processes[0]!.exit).toBeDefined();
    expect(runner.processes[0]!.stdinClosed).toBe(true);
    const after = await agent.execute({ prompt: 'hi' }).result;
    expect(after).toMatchObject({ status: 'failed', error: { code: 'AGENT_CLOSED' } });
  });

  it('refuses a second concurrent run on the same session', async () => {
    const { agent } = make();
    const first = agent.execute({ prompt: 'hang' });
    const reading = firstEvent(first, (e) => e.type === 'session.started');
    const started = (await reading.event) as Extract<AgentEvent, { type: 'session.started' }>;
    const second = await agent.execute({ prompt: 'hi', sessionId: started.sessionId }).result;
    expect(second).toMatchObject({ status: 'failed', error: { code: 'ACP_SESSION_BUSY' } });
    // The refused run did not release the session the first one holds.
    const third = await agent.execute({ prompt: 'hi', sessionId: started.sessionId }).result;
    expect(third).toMatchObject({ status: 'failed', error: { code: 'ACP_SESSION_BUSY' } });
    await first.cancel();
    expect((await agent.execute({ prompt: 'hi', sessionId: started.sessionId }).result).status).toBe('completed');
  });

  it('stops waiting for an agent that ignores session/cancel, and frees the session', async () => {
    const { agent } = make({}, { cancelWaitMs: 50 });
    const run = agent.execute({ prompt: 'deaf' });
    const reading = firstEvent(run, (e) => e.type === 'text.delta');
    await reading.event;
    const result = await run.cancel();
    expect(result.status).toBe('cancelled');
    expect(runProblems(await reading.all)).toEqual([]);
    expect((await agent.execute({ prompt: 'hi', sessionId: result.sessionId }).result).status).toBe('completed');
  });
});

describe('client fs, when offered', () => {
  const fsCaps = { fs: { readTextFile: true, writeTextFile: true }, terminal: false };

  it('is off by default: the agent is told so and its fs requests are refused', async () => {
    const { agent, runner } = make();
    const r = await agent.execute({ prompt: 'fswrite /tmp/forge-acp-never.txt' }).result;
    expect(r.text).toMatch(/^refused: /);
    expect(runner.processes[0]!.received[0]!.params).toMatchObject({
      clientCapabilities: { fs: { writeTextFile: false } },
    });
  });

  it('reads and writes inside the session directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-acp-fs-'));
    try {
      const { agent } = make({}, { clientCapabilities: fsCaps, cwd: dir });
      const w = await agent.execute({ prompt: `fswrite ${join(dir, 'sub', 'a.txt')}` }).result;
      expect(w.text).toBe('wrote');
      expect(await readFile(join(dir, 'sub', 'a.txt'), 'utf8')).toBe('from the agent\n');
      const r = await agent.execute({ prompt: `fsread ${join(dir, 'sub', 'a.txt')}` }).result;
      expect(r.text).toBe('read: from the agent\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The attack: an agent (or a prompt-injected model behind it) asks the client to write or read
  // files outside the session's directory, on the machine where Forge runs.
  it.each([
    ['an absolute path elsewhere', (dir: string) => join(dirname(dir), 'forge-acp-escape.txt')],
    ['a .. traversal', (dir: string) => `${dir}/../forge-acp-escape.txt`],
    ['a sibling with the same prefix', (dir: string) => `${dir}-evil/x.txt`],
  ])('refuses %s', async (_what, target) => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-acp-fs-'));
    try {
      const { agent } = make({}, { clientCapabilities: fsCaps, cwd: dir });
      const path = target(dir);
      const w = await agent.execute({ prompt: `fswrite ${path}` }).result;
      expect(w.text).toMatch(/^refused: .*outside the session's directory/);
      await expect(readFile(path, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      const r = await agent.execute({ prompt: 'fsread /etc/hostname' }).result;
      expect(r.text).toMatch(/^refused: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
