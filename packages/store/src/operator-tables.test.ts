import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore } from './open-store.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

/** API keys, rate windows and the audit log, seen from two connections (two replicas on PostgreSQL). */
function operatorContract(name: string, open: () => Promise<[ForgeStore, ForgeStore]>) {
  // Opening an in-memory PGlite the first time compiles it: tens of seconds on a loaded machine.
  describe(`operator tables (${name})`, { timeout: 120_000 }, () => {
    it('keeps API keys by hash: a revocation is seen by the other connection, last use written at most once per interval', async () => {
      const [a, b] = await open();
      try {
        const hash = 'ab'.repeat(32);
        await a.apiKeys.insert({
          keyId: 'key_1',
          userId: 'alice',
          hash,
          admin: false,
          createdAt: 1_000,
          createdBy: 'ops',
        });
        expect(await b.apiKeys.byHash(hash)).toMatchObject({ keyId: 'key_1', userId: 'alice', createdBy: 'ops' });
        expect(await b.apiKeys.byHash('cd'.repeat(32))).toBeUndefined();
        expect(await a.apiKeys.touch('key_1', 10_000, 60_000)).toBe(true);
        expect(await b.apiKeys.touch('key_1', 20_000, 60_000)).toBe(false);
        expect(await b.apiKeys.touch('key_1', 70_000, 60_000)).toBe(true);
        expect((await a.apiKeys.get('key_1'))?.lastUsedAt).toBe(70_000);
        expect(await b.apiKeys.revoke('key_1', 80_000)).toMatchObject({ revokedAt: 80_000 });
        expect(await a.apiKeys.revoke('key_1', 90_000)).toBeUndefined();
        expect((await a.apiKeys.byHash(hash))?.revokedAt).toBe(80_000);
        await expect(
          a.apiKeys.insert({ keyId: 'key_2', userId: 'bob', hash, admin: true, createdAt: 2_000 }),
        ).rejects.toThrow();
        expect((await b.apiKeys.list()).map((k) => k.keyId)).toEqual(['key_1']);
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    });

    it('counts a window from two connections at once without losing a count, and sweeps old windows', async () => {
      const [a, b] = await open();
      try {
        const counts = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).rateWindows.take('key:k1', 125_000, 60_000)),
        );
        expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(counts[0]!.windowStart).toBe(120_000);
        expect((await a.rateWindows.take('key:k1', 185_000, 60_000)).count).toBe(1);
        expect((await a.rateWindows.take('addr:1', 185_000, 60_000)).count).toBe(1);
        // The window before the current one stays (a request may still count in it); older ones go.
        expect(await b.rateWindows.sweep(180_000)).toBe(1);
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    });

    it('lists an agent’s runs by status and creation time', async () => {
      const [a, b] = await open();
      try {
        for (const [i, at] of [1_000, 2_000, 3_000].entries())
          await a.runs.enqueue({
            requestId: `req_filter${i}`,
            userId: 'u',
            agentId: 'agt_filter',
            request: { prompt: 'p' },
            now: at,
            maxQueued: 10,
          });
        await b.runs.finish('req_filter0', ['queued'], 'x', 9, (seq) => ({
          event: { seq, type: 'run.completed', time: 1, body: '{}' },
          end: { status: 'cancelled', result: { status: 'cancelled' }, finishedAt: 5_000, release: true },
        }));
        const ids = async (page: Parameters<ForgeStore['runs']['list']>[2]) =>
          (await b.runs.list('u', 'agt_filter', page)).map((r) => r.requestId);
        expect(await ids({ limit: 10, statuses: ['cancelled'] })).toEqual(['req_filter0']);
        expect(await ids({ limit: 10, statuses: ['queued', 'cancelled'] })).toEqual([
          'req_filter2',
          'req_filter1',
          'req_filter0',
        ]);
        expect(await ids({ limit: 10, since: 2_000 })).toEqual(['req_filter2', 'req_filter1']);
        expect(await ids({ limit: 10, until: 2_000 })).toEqual(['req_filter0']);
        expect(await ids({ limit: 10, since: 1_500, until: 3_000, statuses: ['queued'] })).toEqual(['req_filter1']);
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    });

    it('appends audit entries, filters and pages them, and refuses to change one', async () => {
      const [a, b] = await open();
      try {
        for (let i = 0; i < 5; i++)
          await (i % 2 ? a : b).audit.append({
            at: 1_000 * (i + 1),
            actor: { userId: i < 3 ? 'alice' : 'bob', keyId: 'key_x' },
            action: i % 2 ? 'agent.deleted' : 'agent.created',
            target: `agt_${i}`,
            details: { i },
          });
        const all = await a.audit.list({ limit: 10 });
        expect(all.map((e) => e.target)).toEqual(['agt_4', 'agt_3', 'agt_2', 'agt_1', 'agt_0']);
        expect(all[0]).toMatchObject({ at: 5_000, actor: { userId: 'bob', keyId: 'key_x' }, details: { i: 4 } });
        expect((await b.audit.list({ limit: 10, action: 'agent.deleted' })).map((e) => e.target)).toEqual([
          'agt_3',
          'agt_1',
        ]);
        expect((await b.audit.list({ limit: 10, userId: 'bob' })).length).toBe(2);
        expect((await b.audit.list({ limit: 10, since: 2_000, until: 4_000 })).map((e) => e.at)).toEqual([
          3_000, 2_000,
        ]);
        const first = await b.audit.list({ limit: 2 });
        const next = await b.audit.list({ limit: 2, before: first.at(-1)!.id });
        expect(next.map((e) => e.target)).toEqual(['agt_2', 'agt_1']);
        await expect(a.sql.query(`update forge_audit set action = 'x'`)).rejects.toThrow(/append-only/);
        expect(await a.audit.sweep(2_500)).toBe(2);
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    });
  });
}

operatorContract('PGlite', async () => {
  const store = await openStore({ memory: true });
  return [store, store];
});

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  operatorContract('PostgreSQL, two pools', async () => {
    const url = await pg.create();
    return [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
  });
});
