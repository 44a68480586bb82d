import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { codex } from '../agent.js';
import { agentOn, textTurn } from '../test-support/app-server-turns.js';
import { scriptedAppServer } from '../test-support/scripted-app-server.js';

describe('codex app-server prewarm (scripted server)', () => {
  it('starts and initializes the server when the agent is made; new threads then start on it', async () => {
    const { runner, agent } = agentOn(textTurn('a'), { prewarm: {} });
    await vi.waitFor(() =>
      expect(runner.servers[0]?.received.map((m) => m.method)).toEqual(['initialize', 'initialized']),
    );
    const { result } = await collectRun(agent.execute({ prompt: 'x', model: 'other', systemPrompt: 'S' }));
    expect(result.status).toBe('completed');
    expect(runner.spawns).toHaveLength(1);
    expect(runner.servers[0]!.received.map((m) => m.method)).toEqual([
      'initialize',
      'initialized',
      'thread/start',
      'turn/start',
    ]);
    await agent.close?.();
    expect(runner.servers[0]!.exited).toBe(true);
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
