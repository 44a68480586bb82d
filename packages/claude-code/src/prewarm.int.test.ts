import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/** Prewarmed processes with the real CLI against the fake Messages API: a new session's first turn. */
describe('claudeCode with the real CLI: prewarm', () => {
  const rig = claudeCliRig();
  const { agent, spawned, alive } = rig;

  it('a new session is served by the process started before the request, and one more is started', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const before = spawned.length;
    const a = agent({}, { prewarm: { count: 1 } });
    await vi.waitFor(() => expect(spawned.length - before).toBe(1));
    const ready = spawned[before]!;
    const { result } = await collectRun(a.execute({ prompt: 'hello' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: hello' });
    // The first turn went into the prewarmed process: it is the session's warm process now, and a spare is started.
    await vi.waitFor(() => expect(spawned.length - before).toBe(2));
    expect(alive(ready.pid)).toBe(true);
    const next = await collectRun(a.execute({ prompt: 'again', sessionId: result.sessionId! }));
    expect(next.result).toMatchObject({ status: 'completed', text: 'You said: again' });
    // A second new session takes the spare: still no cold start.
    const other = await collectRun(a.execute({ prompt: 'other' }));
    expect(other.result).toMatchObject({ status: 'completed', text: 'You said: other' });
    expect(other.result.sessionId).not.toBe(result.sessionId);
    await vi.waitFor(() => expect(spawned.length - before).toBe(3));
  });

  it('a request whose options change the argv starts cold and leaves the prewarmed process waiting', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const before = spawned.length;
    const a = agent({}, { prewarm: { count: 1 } });
    await vi.waitFor(() => expect(spawned.length - before).toBe(1));
    const ready = spawned[before]!;
    const { result } = await collectRun(a.execute({ prompt: 'hi', model: 'sonnet', systemPrompt: 'Be brief.' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: hi' });
    expect(spawned.length - before).toBe(2);
    expect(spawned[before + 1]!.pid).not.toBe(ready.pid);
    expect(alive(ready.pid)).toBe(true);
    // Another env is another process too.
    await collectRun(a.execute({ prompt: 'env', env: { FORGE_PREWARM_TEST: '1' } }));
    expect(spawned.length - before).toBe(3);
  });

  it('a prewarmed process that died while waiting is replaced by a cold start, transparently', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const before = spawned.length;
    const a = agent({}, { prewarm: { count: 1 } });
    await vi.waitFor(() => expect(spawned.length - before).toBe(1));
    spawned[before]!.kill('SIGKILL');
    await spawned[before]!.exited;
    const { result } = await collectRun(a.execute({ prompt: 'still here' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: still here' });
  });

  it('an idle prewarmed process ends after idleMs', async () => {
    const before = spawned.length;
    agent({}, { prewarm: { count: 2, idleMs: 300 } });
    await vi.waitFor(() => expect(spawned.length - before).toBe(2));
    for (const p of spawned.slice(before))
      await vi.waitFor(() => expect(alive(p.pid)).toBe(false), { timeout: 10_000 });
  });

  it('close() ends the prewarmed processes, including one still starting, and none is started after', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const before = spawned.length;
    const a = agent({}, { prewarm: { count: 2 } });
    // Closed while the spawns may still be under way.
    await a.close?.();
    const procs = spawned.slice(before);
    for (const p of procs) expect(alive(p.pid)).toBe(false);
    expect(spawned.length - before).toBeLessThanOrEqual(2);
  });

  it('close() after use ends the spare and the session process', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const before = spawned.length;
    const a = agent({}, { prewarm: { count: 1 } });
    await collectRun(a.execute({ prompt: 'one' }));
    await vi.waitFor(() => expect(spawned.length - before).toBe(2));
    await a.close?.();
    for (const p of spawned.slice(before)) expect(alive(p.pid)).toBe(false);
    expect(await rig.processesWith(rig.scratch)).toEqual([]);
  });
});
