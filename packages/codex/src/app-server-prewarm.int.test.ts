import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { useRealAppServer } from './test-support/real-app-server.js';

const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `prewarm` with the real `codex app-server`: a server started and initialized before the first request. */
describe('codex app-server with the real CLI: prewarm', () => {
  const rig = useRealAppServer();

  it('a new thread is served by the server started before the request', async () => {
    rig.respond(() => ({ text: 'Prewarmed.' }));
    const before = rig.spawned.length;
    const a = rig.agent({ prewarm: {} });
    await vi.waitFor(() => expect(rig.spawned.length - before).toBe(1));
    const server = rig.spawned[before]!;
    const first = await collectRun(a.execute({ prompt: 'hello' }));
    expect(first.result).toMatchObject({ status: 'completed', text: 'Prewarmed.' });
    const second = await collectRun(a.execute({ prompt: 'another thread' }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'Prewarmed.' });
    expect(second.result.sessionId).not.toBe(first.result.sessionId);
    // Both threads ran in the process that was there before them.
    expect(rig.spawned.length - before).toBe(1);
    expect(alive(server.pid)).toBe(true);
    expect((await a.capabilities()).extra).toMatchObject({ prewarm: true });
  });

  it('a request with its own env starts a server of its own; the prewarmed one keeps waiting', async () => {
    rig.respond(() => ({ text: 'Cold.' }));
    const before = rig.spawned.length;
    const a = rig.agent({ prewarm: {} });
    await vi.waitFor(() => expect(rig.spawned.length - before).toBe(1));
    const { result } = await collectRun(a.execute({ prompt: 'hi', env: { FORGE_PREWARM_TEST: '1' } }));
    expect(result).toMatchObject({ status: 'completed', text: 'Cold.' });
    expect(rig.spawned.length - before).toBe(2);
    expect(alive(rig.spawned[before]!.pid)).toBe(true);
  });

  it('the prewarmed server stops after prewarm.idleMs with nothing to do', async () => {
    const before = rig.spawned.length;
    rig.agent({ prewarm: { idleMs: 300 }, appServer: { idleMs: 100 } });
    await vi.waitFor(() => expect(rig.spawned.length - before).toBe(1));
    await vi.waitFor(() => expect(alive(rig.spawned[before]!.pid)).toBe(false), { timeout: 15_000 });
  });

  it('close() ends the prewarmed server, also while it is starting; nothing is left', async () => {
    rig.respond(() => ({ text: 'Done.' }));
    const before = rig.spawned.length;
    const early = rig.agent({ prewarm: {} });
    await early.close?.();
    const used = rig.agent({ prewarm: {} });
    await collectRun(used.execute({ prompt: 'one' }));
    await used.close?.();
    const procs = rig.spawned.slice(before);
    expect(procs.length).toBeGreaterThanOrEqual(1);
    for (const p of procs) expect(alive(p.pid)).toBe(false);
  });
});
