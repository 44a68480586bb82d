import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner, type FakeClaudeCall } from './testing/index.js';

const served = (call: FakeClaudeCall) => call.cli.received.some((m) => m.type === 'user');

describe('agent.prewarm(request): a spare per shape', () => {
  it('starts one process shaped as the request; a new session of that shape takes it, another shape goes cold', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner });
    const spare = agent.prewarm({ cwd: '/w/a', model: 'sonnet' });
    // Asked again for the same shape: the same spare, no second process.
    agent.prewarm({ cwd: '/w/a', model: 'sonnet', prompt: 'ignored', sessionId: 'x' } as never);
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    expect(runner.calls[0]!.args).toContain('--model=sonnet');
    expect(runner.calls[0]!.options.cwd).toBe('/w/a');

    await collectRun(agent.execute({ prompt: 'other', cwd: '/w/b', model: 'sonnet' }));
    expect(runner.calls).toHaveLength(2);
    expect(served(runner.calls[0]!)).toBe(false);

    const { result } = await collectRun(agent.execute({ prompt: 'one', cwd: '/w/a', model: 'sonnet' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: one' });
    expect(runner.calls).toHaveLength(2);
    expect(served(runner.calls[0]!)).toBe(true);
    expect(await spare.ended).toBe('taken');
    // Not refilled by the agent: the holder asks again.
    expect(runner.calls).toHaveLength(2);
    await agent.close?.();
    for (const call of runner.calls) expect(call.exit).toBeDefined();
  });

  it('a follow-up never takes a spare', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner, warmSessions: false });
    agent.prewarm({ cwd: '/w/a' });
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    await collectRun(
      agent.execute({ prompt: 'again', cwd: '/w/a', sessionId: 'f0f0f0f0-0000-4000-8000-000000000000' }),
    );
    expect(runner.calls).toHaveLength(2);
    expect(served(runner.calls[0]!)).toBe(false);
    await agent.close?.();
  });

  it('ends after idleMs, on release, and on close (also while starting)', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner });
    const idle = agent.prewarm({ cwd: '/w/idle' }, { idleMs: 10 });
    expect(await idle.ended).toBe('idle');
    const released = agent.prewarm({ cwd: '/w/released' });
    await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
    released.release();
    expect(await released.ended).toBe('released');
    const closing = agent.prewarm({ cwd: '/w/closing' });
    await agent.close?.();
    expect(await closing.ended).toBe('released');
    await vi.waitFor(() => {
      for (const call of runner.calls) expect(call.exit).toBeDefined();
    });
    // After close, a spare ends at once.
    expect(await agent.prewarm({ cwd: '/w/late' }).ended).toBe('released');
  });
});
