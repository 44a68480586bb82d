import { collectRun, firstEvent } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner } from './testing/index.js';

const userTurns = (received: Record<string, unknown>[]) =>
  received.filter((m) => m.type === 'user').map((m) => (m.message as { content: string }).content);

describe('warm sessions', () => {
  it('writes the next turn of a session into its live process, without --resume', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner });
    const first = await collectRun(agent.execute({ prompt: 'one' }));
    const sessionId = first.result.sessionId!;
    const second = await collectRun(agent.execute({ prompt: 'two', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: two', sessionId });
    expect(runner.calls).toHaveLength(1);
    expect(userTurns(runner.calls[0]!.cli.received)).toEqual(['one', 'two']);
    expect(second.events[0]).toMatchObject({ type: 'session.started', sessionId });
    await agent.close?.();
    expect(runner.calls[0]!.exit).toEqual({ code: 0, signal: null });
  });

  it('a run without sessionId, or with options that shape the process differently, starts a fresh one', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner });
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    await collectRun(agent.execute({ prompt: 'fresh' }));
    expect(runner.calls).toHaveLength(2);
    const sessionId = result.sessionId!;
    for (const [i, change] of [
      { model: 'sonnet' },
      { permissionMode: 'acceptEdits' as const },
      { allowedTools: ['Bash'] },
      { cwd: '/elsewhere' },
      { env: { A: '1' } },
    ].entries()) {
      await collectRun(agent.execute({ prompt: `changed ${i}`, sessionId, ...change }));
      const call = runner.calls.at(-1)!;
      expect(call.args).toContain(`--resume=${sessionId}`);
      expect(runner.calls).toHaveLength(3 + i);
    }
    // One writer per session: each change ended the session's previous process.
    await vi.waitFor(() =>
      expect(runner.calls.slice(0, -1).filter((c) => c.cli.sessionId === sessionId && !c.exit)).toEqual([]),
    );
    await agent.close?.();
  });

  it('a second concurrent run of a session goes cold with --resume; the process that finishes last is kept', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = fakeClaudeRunner((i) => ({
      turn: (prompt) => (i === 0 && prompt === 'slow' ? [{ hang: true }] : [{ text: `You said: ${prompt}` }]),
    }));
    const agent = claudeCode({ runner });
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    const sessionId = result.sessionId!;
    const slow = agent.execute({ prompt: 'slow', sessionId });
    await firstEvent(slow).event;
    const other = await collectRun(agent.execute({ prompt: 'meanwhile', sessionId }));
    expect(other.result.status).toBe('completed');
    expect(runner.calls).toHaveLength(2);
    expect(runner.calls[1]!.args).toContain(`--resume=${sessionId}`);
    void gate;
    release();
    await slow.cancel();
    // The slow run's process finished last and took the session's place; the cold one was ended.
    await vi.waitFor(() => expect(runner.calls[1]!.exit).toBeDefined());
    await collectRun(agent.execute({ prompt: 'next', sessionId }));
    expect(runner.calls).toHaveLength(2);
    expect(userTurns(runner.calls[0]!.cli.received).at(-1)).toBe('next');
    await agent.close?.();
  });

  it('keeps at most `max` idle processes, ending the least recently used', async () => {
    const runner = fakeClaudeRunner((i) => ({ sessionId: `session-${i}` }));
    const agent = claudeCode({ runner, warmSessions: { max: 2 } });
    for (const p of ['a', 'b', 'c']) await collectRun(agent.execute({ prompt: p }));
    await vi.waitFor(() => expect(runner.calls.map((c) => c.exit !== undefined)).toEqual([true, false, false]));
    await collectRun(agent.execute({ prompt: 'again', sessionId: 'session-1' }));
    expect(runner.calls).toHaveLength(3);
    await agent.close?.();
    expect(runner.calls.every((c) => c.exit)).toBe(true);
  });

  it('ends an idle process after idleMs, with a timer that does not hold the event loop', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner, warmSessions: { idleMs: 30 } });
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    const idle = setTimeoutSpy.mock.results.find(
      (r, i) => setTimeoutSpy.mock.calls[i]![1] === 30 && r.type === 'return',
    )?.value as { hasRef(): boolean };
    setTimeoutSpy.mockRestore();
    expect(idle.hasRef()).toBe(false);
    await vi.waitFor(() => expect(runner.calls[0]!.exit).toEqual({ code: 0, signal: null }));
    await collectRun(agent.execute({ prompt: 'two', sessionId: result.sessionId! }));
    expect(runner.calls).toHaveLength(2);
    expect(runner.calls[1]!.args).toContain(`--resume=${result.sessionId}`);
    await agent.close?.();
  });

  it('a warm process that died between turns is replaced by a cold --resume, transparently', async () => {
    const runner = fakeClaudeRunner();
    const agent = claudeCode({ runner });
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    runner.calls[0]!.process.kill('SIGKILL');
    await runner.calls[0]!.process.exited;
    const second = await collectRun(agent.execute({ prompt: 'two', sessionId: result.sessionId! }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: two' });
    expect(runner.calls[1]!.args).toContain(`--resume=${result.sessionId}`);
    await agent.close?.();
  });

  it('a warm process that dies on the next message without a word is replaced the same way', async () => {
    const runner = fakeClaudeRunner((i) => ({
      turn: (prompt, turn) => (i === 0 && turn === 1 ? [{ exit: 1 }] : [{ text: `You said: ${prompt}` }]),
    }));
    const agent = claudeCode({ runner });
    const { result } = await collectRun(agent.execute({ prompt: 'one' }));
    const second = await collectRun(agent.execute({ prompt: 'two', sessionId: result.sessionId! }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: two' });
    expect(second.events.filter((e) => e.type === 'session.started')).toHaveLength(1);
    expect(runner.calls).toHaveLength(2);
    await agent.close?.();
  });

  it('a cancelled turn keeps its process warm for the session', async () => {
    const runner = fakeClaudeRunner({
      turn: (prompt) => (prompt === 'long' ? [{ hang: true }] : [{ text: `You said: ${prompt}` }]),
    });
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: 'long' });
    await firstEvent(run).event;
    const cancelled = await run.cancel();
    expect(cancelled.status).toBe('cancelled');
    const next = await collectRun(agent.execute({ prompt: 'go on', sessionId: cancelled.sessionId! }));
    expect(next.result.text).toBe('You said: go on');
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.signals).toEqual([]);
    await agent.close?.();
  });

  it('close() ends every process, warm or running', async () => {
    const runner = fakeClaudeRunner({ turn: (prompt) => (prompt === 'busy' ? [{ hang: true }] : [{ text: 'ok' }]) });
    const agent = claudeCode({ runner });
    await collectRun(agent.execute({ prompt: 'idle' }));
    const busy = agent.execute({ prompt: 'busy' });
    await firstEvent(busy).event;
    await agent.close?.();
    expect((await busy.result).status).toBe('cancelled');
    expect(runner.calls.map((c) => c.exit !== undefined)).toEqual([true, true]);
  });

  it('refuses bad warmSessions settings when built', () => {
    expect(() => claudeCode({ warmSessions: { max: 0 } })).toThrow(RangeError);
    expect(() => claudeCode({ warmSessions: { idleMs: -1 } })).toThrow(RangeError);
  });
});
