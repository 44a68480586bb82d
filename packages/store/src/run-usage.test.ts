import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore } from './open-store.js';
import type { RunEnd } from './run-record.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();
const DAY1 = Date.UTC(2026, 11, 6, 23, 30);
const DAY2 = Date.UTC(2026, 11, 7, 0, 30);

/** Queues and claims a run, then ends it the way the executor does (append) or the ender does (finish). */
async function runOnce(
  store: ForgeStore,
  id: string,
  who: { userId: string; agentId: string; keyId?: string },
  at: number,
  usage: NonNullable<RunEnd['usage']>,
  how: 'append' | 'finish',
): Promise<void> {
  await store.runs.enqueue({ requestId: id, ...who, request: { prompt: 'x' }, now: at - 1_000, maxQueued: 10 });
  const claimed = await store.runs.claimNext('i1', at - 1_000, at + 60_000);
  expect(claimed?.requestId).toBe(id);
  const end: RunEnd = { status: 'completed', result: { status: 'completed' }, finishedAt: at, release: true, usage };
  const event = { seq: 1, type: 'run.completed', time: at, body: '{}' };
  if (how === 'append') await store.runs.append(id, 'i1', [event], end);
  else await store.runs.finish(id, ['running'], 'i1', at + 60_000, () => ({ event, end }));
}

function usageContract(name: string, open: () => Promise<ForgeStore>) {
  describe(`run usage (${name})`, () => {
    it('is written with the run’s end, on both paths, once, and grouped by day, agent and provider', async () => {
      const store = await open();
      try {
        const u = (provider: string, tokensIn: number, tokensOut: number, costUsd: number) => ({
          provider,
          durationMs: 1_000,
          tokensIn,
          tokensOut,
          costUsd,
        });
        await runOnce(
          store,
          'req_a',
          { userId: 'u1', agentId: 'agt_1', keyId: 'k1' },
          DAY1,
          u('claude-code', 10, 5, 0.5),
          'append',
        );
        await runOnce(store, 'req_b', { userId: 'u1', agentId: 'agt_2' }, DAY2, u('opencode', 1, 2, 0.25), 'finish');
        await runOnce(store, 'req_c', { userId: 'u2', agentId: 'agt_1' }, DAY2, u('claude-code', 100, 0, 1), 'append');
        const range = { from: DAY1 - 86_400_000, to: DAY2 + 86_400_000 };

        const byDay = await store.usage.report({ ...range, userId: 'u1', groupBy: 'day' });
        expect(byDay.groups.map((g) => [g.key, g.runs, g.tokensIn, g.tokensOut, g.costUsd])).toEqual([
          ['2026-12-06', 1, 10, 5, 0.5],
          ['2026-12-07', 1, 1, 2, 0.25],
        ]);
        expect(byDay.total).toEqual({ runs: 2, tokensIn: 11, tokensOut: 7, costUsd: 0.75, durationMs: 2_000 });

        // Everyone's, by agent: agent ids are per user, so the same id of two users is two groups.
        const byAgent = await store.usage.report({ ...range, groupBy: 'agent' });
        expect(byAgent.groups.map((g) => [g.key, g.userId, g.runs])).toEqual([
          ['agt_1', 'u1', 1],
          ['agt_1', 'u2', 1],
          ['agt_2', 'u1', 1],
        ]);
        const byProvider = await store.usage.report({ ...range, groupBy: 'provider', limit: 1 });
        expect(byProvider.groups.map((g) => [g.key, g.runs, g.tokensIn])).toEqual([['claude-code', 2, 110]]);
        expect(byProvider.truncated).toBe(true);
        // The range is half open: a run finished at `to` is not in it.
        expect((await store.usage.report({ from: DAY1, to: DAY2, groupBy: 'day' })).total.runs).toBe(1);

        // Run retention leaves usage alone.
        await store.runs.sweep({ finishedBefore: DAY2 + 1, maxEvents: 0 });
        expect(await store.runs.get('req_a')).toBeUndefined();
        expect((await store.usage.report({ ...range, groupBy: 'day' })).total.runs).toBe(3);
        expect(await store.usage.sweep(DAY2)).toBe(1);
      } finally {
        await store.close();
      }
    });
  });
}

usageContract('PGlite', () => openStore({ memory: true }));

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  usageContract('PostgreSQL', async () => openStore({ databaseUrl: await pg.create() }));
});
