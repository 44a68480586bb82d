import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { agentOn, answerAll, askingTurn, textTurn } from '../test-support/app-server-turns.js';

describe('codex app-server: steering and fork (scripted server)', () => {
  it('declares steering, and run.steer() adds the text to the running turn with turn/steer', async () => {
    const { runner, agent } = agentOn(
      askingTurn('item/commandExecution/requestApproval', { command: 'echo hi', cwd: '/work' }),
      { versionTimeoutMs: 10 },
    );
    expect((await agent.capabilities()).steering).toBe(true);
    const run = agent.execute({ prompt: 'x' });
    const { result } = await answerAll(run, async (e) => {
      if (e.type !== 'permission.requested') return;
      await run.steer('also say bye');
      await run.respond(e.id, 'allow');
    });
    expect(result.status).toBe('completed');
    const steer = runner.servers.flatMap((s) => s.received).find((m) => m.method === 'turn/steer');
    expect(steer!.params).toEqual({
      threadId: 'thread-1',
      expectedTurnId: 'turn-1',
      input: [{ type: 'text', text: 'also say bye', text_elements: [] }],
    });
    await agent.close?.();
  });

  it('a steer after the turn has ended is refused', async () => {
    const { agent } = agentOn(textTurn('done'));
    const run = agent.execute({ prompt: 'x' });
    await collectRun(run);
    await expect(run.steer('too late')).rejects.toThrow();
    await agent.close?.();
  });

  it("fork: thread/fork of the session, with the run's thread settings; the result is the new thread", async () => {
    const { runner, agent } = agentOn(textTurn('forked'), { versionTimeoutMs: 10 });
    expect((await agent.capabilities()).fork).toBe(true);
    const { result, events } = await collectRun(agent.execute({ prompt: 'x', sessionId: 'thread-0', fork: true }));
    expect(result).toMatchObject({ status: 'completed', sessionId: 'thread-1', text: 'forked' });
    expect(events.find((e) => e.type === 'session.started')).toMatchObject({ sessionId: 'thread-1' });
    const received = runner.servers.flatMap((s) => s.received);
    expect(received.find((m) => m.method === 'thread/fork')!.params).toMatchObject({
      threadId: 'thread-0',
      cwd: '/work',
      approvalPolicy: 'untrusted',
      model: 'm',
    });
    expect(received.filter((m) => m.method === 'thread/resume' || m.method === 'thread/start')).toEqual([]);
    expect(received.find((m) => m.method === 'turn/start')!.params.threadId).toBe('thread-1');
    await agent.close?.();
  });

  it('fork of a session Codex cannot find fails SESSION_NOT_FOUND', async () => {
    const { agent } = agentOn((m, s) => {
      if (m.method === 'thread/fork') s.send({ id: m.id, error: { code: -32600, message: 'no rollout found' } });
    });
    const { result } = await collectRun(agent.execute({ prompt: 'x', sessionId: 'nope', fork: true }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_FOUND' } });
    expect(result.error!.message).toMatch(/fork.*no rollout found/);
    await agent.close?.();
  });

  it('an ephemeral agent does not declare fork, and refuses it up front', () => {
    const { agent } = agentOn(textTurn('x'), { ephemeral: true });
    expect(() => agent.execute({ prompt: 'x', sessionId: 's', fork: true })).toThrow(/fork/);
  });
});
