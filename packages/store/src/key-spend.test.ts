import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore } from './open-store.js';
import { spendDay } from './key-spend.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

function spendContract(name: string, open: () => Promise<[ForgeStore, ForgeStore]>) {
  describe(`key spend and agent settings (${name})`, () => {
    it('adds concurrently from two connections without losing any, per key and day', async () => {
      const [a, b] = await open();
      try {
        const day = spendDay(Date.UTC(2026, 11, 7, 23, 59));
        expect(day).toBe('2026-12-07');
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).keySpend.add('k1', day, { costUsd: 0.25, tokens: 100 })),
        );
        expect(await b.keySpend.get('k1', day)).toEqual({ costUsd: 5, tokens: 2_000 });
        expect(await a.keySpend.get('k1', '2026-12-08')).toEqual({ costUsd: 0, tokens: 0 });
        expect(await a.keySpend.get('k2', day)).toEqual({ costUsd: 0, tokens: 0 });
        expect(await a.keySpend.add('k1', day, { costUsd: 0, tokens: 1 })).toEqual({ costUsd: 5, tokens: 2_001 });
        expect(await a.keySpend.sweep('2026-12-08')).toBe(1);

        await a.agentSettings.put('u', 'agt_1', { budget: { maxTokens: 5 } }, 1);
        expect(await b.agentSettings.get('u', 'agt_1')).toEqual({ budget: { maxTokens: 5 } });
        await b.agentSettings.put('u', 'agt_1', { effort: 'low' }, 2);
        expect(await a.agentSettings.get('u', 'agt_1')).toEqual({ effort: 'low' });
        await a.agentSettings.remove('u', 'agt_1');
        expect(await b.agentSettings.get('u', 'agt_1')).toBeUndefined();
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    });
  });
}

spendContract('PGlite', async () => {
  const store = await openStore({ memory: true });
  return [store, store];
});

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  spendContract('PostgreSQL, two pools', async () => {
    const url = await pg.create();
    return [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
  });
});
