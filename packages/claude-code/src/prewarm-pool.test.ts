import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner } from './testing/index.js';

describe('prewarm', () => {
  it('starts `count` processes with the default argv; a plain new session takes one, then one more starts', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner, prewarm: { count: 2 } });
    await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: one' });
    // Served by a process started before the request.
    const served = runner.calls.slice(0, 2).filter((c) => c.cli.received.some((m) => m.type === 'user'));
    expect(served).toHaveLength(1);
    await vi.waitFor(() => expect(runner.calls).toHaveLength(3));
    expect(runner.calls[2]!.args).toEqual(runner.calls[0]!.args);
    expect((await agent.capabilities()).extra).toMatchObject({ prewarm: 2 });
    await agent.close?.();
    for (const call of runner.calls) expect(call.exit).toBeDefined();
  });

  it('a request that changes the process, or continues a session, does not take a prewarmed one', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner, prewarm: { count: 1 } });
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    for (const change of [
      { model: 'sonnet' },
      { permissionMode: 'acceptEdits' as const },
      { allowedTools: ['Bash'] },
      { systemPrompt: 'Be brief.' },
      { cwd: '/elsewhere' },
      { env: { A: '1' } },
      { sessionId: 'f0f0f0f0-0000-4000-8000-000000000000' },
    ]) {
      const before = runner.calls.length;
      await collectRun(agent.execute({ prompt: 'changed', ...change }));
      expect(runner.calls).toHaveLength(before + 1);
    }
    // Still waiting, untouched.
    expect(runner.calls[0]!.cli.received.filter((m) => m.type === 'user')).toEqual([]);
    await agent.close?.();
    for (const call of runner.calls) expect(call.exit).toBeDefined();
  });

  it('an idle prewarmed process ends after idleMs and is not replaced until a new session asks', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner, prewarm: { count: 1, idleMs: 20 } });
    await vi.waitFor(() => expect(runner.calls[0]?.exit).toBeDefined());
    expect(runner.calls).toHaveLength(1);
    await collectRun(agent.execute({ prompt: 'cold' }));
    await vi.waitFor(() => expect(runner.calls).toHaveLength(3));
    await agent.close?.();
  });

  it('refuses a bad count or idleMs when the agent is made', () => {
    expect(() => claudeCode({ runner: fakeClaudeRunner(), prewarm: { count: 0 } })).toThrow(RangeError);
    expect(() => claudeCode({ runner: fakeClaudeRunner(), prewarm: { idleMs: -1 } })).toThrow(RangeError);
  });
});
