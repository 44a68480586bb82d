import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore } from './open-store.js';
import { ParkedAgents } from './parked-agents.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

function parkedContract(name: string, open: () => Promise<[ForgeStore, ForgeStore]>) {
  describe(`parked agents (${name})`, () => {
    it('keeps an agent without a pod where every replica reads it, per user, until removed', async () => {
      const [a, b] = await open();
      try {
        const one = new ParkedAgents(a.sql);
        const other = new ParkedAgents(b.sql);
        const agent = { userId: 'alice', agentId: 'agt_1', provider: 'claude-code', createdAt: 100, parkedAt: 200 };
        await one.park(agent);
        await one.park({ ...agent, agentId: 'agt_2', image: 'python', createdAt: 150 });
        expect(await other.get('alice', 'agt_1')).toEqual(agent);
        expect(await other.get('bob', 'agt_1')).toBeUndefined();
        expect((await other.list('alice')).map((p) => [p.agentId, p.image])).toEqual(
          expect.arrayContaining([
            ['agt_1', undefined],
            ['agt_2', 'python'],
          ]),
        );
        expect(await other.list('bob')).toEqual([]);
        // Parking again (another replica's reaper) is an upsert.
        await other.park({ ...agent, parkedAt: 300 });
        expect((await one.get('alice', 'agt_1'))!.parkedAt).toBe(300);
        expect(await other.remove('alice', 'agt_1')).toBe(true);
        expect(await one.remove('alice', 'agt_1')).toBe(false);
        expect(await one.get('alice', 'agt_1')).toBeUndefined();
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
      // Opening an embedded PGlite with every migration takes seconds, tens of them on a loaded machine.
    }, 120_000);
  });
}

parkedContract('PGlite', async () => {
  const store = await openStore({ memory: true });
  return [store, store];
});

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  parkedContract('PostgreSQL, two pools', async () => {
    const url = await pg.create();
    return [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
  });
});
