import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { agentOn, answerAll, askingTurn, textTurn } from '../test-support/app-server-turns.js';

describe('codex app-server: steering (scripted server)', () => {
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
});
