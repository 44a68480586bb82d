import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore } from './open-store.js';
import { RunLeaseLostError, RunStoreWriteError } from './run-store-errors.js';
import { RunStore } from './run-store.js';

/** What a journal writer needs to tell apart: the run is someone else's now, or the write failed and the run is still its own. */
describe('RunStore.append failures', () => {
  let store: ForgeStore;
  beforeAll(async () => {
    store = await openStore({ memory: true });
  });
  afterAll(() => store.close());

  const running = async (id: string) => {
    const out = await store.runs.enqueue({
      requestId: id,
      userId: 'u',
      agentId: id,
      request: {},
      now: 1,
      maxQueued: 1,
    });
    if ('full' in out) throw new Error('full');
    let r = await store.runs.claimNext('w', 2, 1e12);
    while (r && r.requestId !== id) r = await store.runs.claimNext('w', 2, 1e12);
    return r!;
  };
  const end = { status: 'completed' as const, result: {}, finishedAt: 3, release: true };

  it('a lost lease is RunLeaseLostError, nothing else', async () => {
    await running('req_lost');
    const error = await store.runs.append('req_lost', 'someone-else', [], end).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect(error).not.toBeInstanceOf(RunStoreWriteError);
    expect(error).toMatchObject({ code: 'RUN_LEASE_LOST', category: 'conflict', details: { requestId: 'req_lost' } });
  });

  it('a database failure is RunStoreWriteError, with the driver’s error as cause, and the run stays held', async () => {
    await running('req_broken');
    const cause = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const broken = new RunStore({ ...store.sql, query: () => Promise.reject(cause) });
    const error = await broken.append('req_broken', 'w', [], end).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunStoreWriteError);
    expect(error).not.toBeInstanceOf(RunLeaseLostError);
    expect(error).toMatchObject({
      code: 'STORE_WRITE_FAILED',
      cause,
      details: { requestId: 'req_broken', sqlState: '57P01' },
    });
    expect(await store.runs.get('req_broken')).toMatchObject({ status: 'running', owner: 'w' });
    // A result JSON.stringify cannot write (a cycle; nesting past its stack) is a failed write too.
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await expect(store.runs.append('req_broken', 'w', [], { ...end, result: cycle })).rejects.toBeInstanceOf(
      RunStoreWriteError,
    );
    await store.runs.append('req_broken', 'w', [], end);
    expect((await store.runs.get('req_broken'))?.status).toBe('completed');
  });
});
