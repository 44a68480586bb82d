import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { codex } from '../agent.js';
import { agentOn, textTurn } from '../test-support/app-server-turns.js';
import { scriptedAppServer } from '../test-support/scripted-app-server.js';

describe('codex app-server prewarm (scripted server)', () => {
  it('starts and initializes the server when the agent is made; new threads then start on it', async () => {
    const { runner, agent } = agentOn(textTurn('a'), { prewarm: {} });
    await vi.waitFor(() =>
      expect(runner.servers[0]?.received.map((m) => m.method)).toEqual(['initialize', 'initialized', 'thread/start']),
    );
    // Settings other than the agent's defaults: the spare thread does not fit, the session starts its own.
    const { result } = await collectRun(agent.execute({ prompt: 'x', model: 'other', systemPrompt: 'S' }));
    expect(result.status).toBe('completed');
    expect(runner.spawns).toHaveLength(1);
    expect(runner.servers[0]!.received.map((m) => m.method)).toEqual([
      'initialize',
      'initialized',
      'thread/start',
      'thread/start',
      'turn/start',
    ]);
    expect(result.sessionId).toBe('thread-2');
    await agent.close?.();
    expect(runner.servers[0]!.exited).toBe(true);
  });

  it('a new session with the default settings takes the spare thread (no thread/start of its own), and a new spare is started; sessions never share one', async () => {
    const { runner, agent } = agentOn(textTurn('a'), { prewarm: {}, model: 'm1' });
    await vi.waitFor(() => expect(runner.servers[0]?.received.map((m) => m.method)).toContain('thread/start'));
    const methods = () => runner.servers[0]!.received.map((m) => m.method);
    const first = await collectRun(agent.execute({ prompt: 'one' }));
    expect(first.result).toMatchObject({ status: 'completed', sessionId: 'thread-1' });
    // The session's turn went to the spare; the replacement is started after it.
    expect(methods().slice(0, 4)).toEqual(['initialize', 'initialized', 'thread/start', 'turn/start']);
    expect(runner.servers[0]!.received[2]!.params).toMatchObject({ model: 'm1' });
    await vi.waitFor(() => expect(methods().filter((m) => m === 'thread/start')).toHaveLength(2));
    const second = await collectRun(agent.execute({ prompt: 'two' }));
    expect(second.result).toMatchObject({ status: 'completed', sessionId: 'thread-2' });
    const turns = runner.servers[0]!.received.filter((m) => m.method === 'turn/start').map((m) => m.params.threadId);
    expect(turns).toEqual(['thread-1', 'thread-2']);
    // A follow-up on the first session stays on its own thread; the third spare waits for the next new session.
    const followUp = await collectRun(agent.execute({ prompt: 'three', sessionId: 'thread-1' }));
    expect(followUp.result).toMatchObject({ status: 'completed', sessionId: 'thread-1' });
    await vi.waitFor(() => expect(methods().filter((m) => m === 'thread/start')).toHaveLength(3));
    await agent.close?.();
    expect(runner.servers[0]!.exited).toBe(true);
  });

  it('an agent without prewarm keeps no spare thread', async () => {
    const { runner, agent } = agentOn(textTurn('a'));
    const { result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    await new Promise((r) => setImmediate(r));
    expect(runner.servers[0]!.received.map((m) => m.method)).toEqual([
      'initialize',
      'initialized',
      'thread/start',
      'turn/start',
    ]);
    await agent.close?.();
  });

  it('a prewarmed server nobody uses stops after prewarm.idleMs', async () => {
    const { runner } = agentOn(textTurn('a'), { prewarm: { idleMs: 20 }, appServer: { idleMs: 10 } });
    await vi.waitFor(() => expect(runner.servers[0]?.exited).toBe(true));
    expect(runner.spawns).toHaveLength(1);
  });

  it('refuses prewarm with transport exec, and a bad count or idleMs', () => {
    const runner = scriptedAppServer(() => undefined);
    expect(() => codex({ transport: 'exec', runner, prewarm: {} })).toThrow(RangeError);
    expect(() => codex({ runner, prewarm: { count: 0 } })).toThrow(RangeError);
    expect(() => codex({ runner, prewarm: { idleMs: 0 } })).toThrow(RangeError);
  });
});
