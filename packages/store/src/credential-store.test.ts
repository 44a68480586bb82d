import { DialHomeCodes } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS } from './migrations.js';
import { openStore, type ForgeStore } from './open-store.js';
import { pgliteClient } from './pglite-client.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

const agent = (agentId: string, name: string, enrolledAt = 1) => ({ agentId, name, credentialHash: 'h', enrolledAt });

/** Two stores on one database, as two replicas have them (PGlite: one store, shared). */
function liveNames(name: string, open: () => Promise<[ForgeStore, ForgeStore]>) {
  describe(`one live remote agent per name on ${name}`, () => {
    let a: ForgeStore;
    let b: ForgeStore;
    beforeAll(async () => {
      [a, b] = await open();
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('refuses a second live agent under a name, however the writes race; a revoked one frees it', async () => {
      for (let trial = 0; trial < 10; trial++) {
        const n = `racer-${trial}`;
        const outcomes = await Promise.allSettled([
          a.credentials.put(agent(`ra_a${trial}`, n)),
          b.credentials.put(agent(`ra_b${trial}`, n)),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const [refused] = outcomes.filter((o) => o.status === 'rejected');
        expect(refused?.reason).toMatchObject({
          code: DialHomeCodes.NAME_TAKEN,
          category: 'conflict',
          details: { name: n },
        });
        const live = (await b.credentials.list()).filter((r) => r.name === n && r.revokedAt === undefined);
        expect(live).toHaveLength(1);
      }
      // Enrolling spends the token and creates the agent together: the loser keeps its token.
      for (let trial = 0; trial < 10; trial++) {
        const n = `enrol-${trial}`;
        const token = (id: string) => ({ id: `jti_${id}_${trial}`, expiresAt: 1_000 });
        const outcomes = await Promise.all([
          a.credentials.enrol!(agent(`re_a${trial}`, n), token('a'), 10),
          b.credentials.enrol!(agent(`re_b${trial}`, n), token('b'), 10),
        ]);
        expect(outcomes.toSorted()).toEqual(['enrolled', 'name-taken']);
        const loser = outcomes[0] === 'name-taken' ? 'a' : 'b';
        expect(await a.credentials.get(`re_${loser}${trial}`)).toBeUndefined();
        expect(await b.credentials.enrol!(agent(`re_c${trial}`, `${n}-c`), token(loser), 11)).toBe('enrolled');
        expect(await a.credentials.enrol!(agent(`re_d${trial}`, `${n}-d`), token(loser), 12)).toBe('token-used');
        expect(await a.credentials.get(`re_d${trial}`)).toBeUndefined();
      }
      // Rewriting the holder's own record is no conflict; once it is revoked, another may take the name.
      await a.credentials.put({ ...agent('ra_h', 'held'), provider: 'x' });
      await a.credentials.put({ ...agent('ra_h', 'held'), provider: 'y' });
      await expect(b.credentials.put(agent('ra_h2', 'held'))).rejects.toMatchObject({ code: DialHomeCodes.NAME_TAKEN });
      await b.credentials.update!('ra_h', (r) => ({ ...r, revokedAt: 5 }));
      await b.credentials.put(agent('ra_h2', 'held'));
      await expect(a.credentials.update!('ra_h', (r) => ({ ...r, revokedAt: undefined }))).rejects.toMatchObject({
        code: DialHomeCodes.NAME_TAKEN,
      });
    });
  });
}

liveNames('PGlite', async () => {
  const store = await openStore({ memory: true });
  return [store, { ...store, close: async () => {} }];
});

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  liveNames('PostgreSQL', async () => {
    const url = await pg.create();
    const a = await openStore({ databaseUrl: url });
    return [a, await openStore({ databaseUrl: url })];
  });
});

describe('migration 6 (one live agent per name)', () => {
  it('keeps the name for the first enrolled of agents a race enrolled twice, and revokes the later ones', async () => {
    const sql = await pgliteClient();
    try {
      await migrate(
        sql,
        MIGRATIONS.filter((m) => m.version < 6),
      );
      for (const [id, name, at] of [
        ['ra_2', 'twice', 2],
        ['ra_1', 'twice', 1],
        ['ra_3', 'twice', 3],
        ['ra_4', 'once', 1],
      ] as const)
        await sql.query(
          `insert into forge_remote_agents (agent_id, name, credential_hash, enrolled_at) values ($1, $2, 'h', $3)`,
          [id, name, at],
        );
      expect(await migrate(sql)).toEqual(MIGRATIONS.filter((m) => m.version >= 6).map((m) => m.version));
      const rows = await sql.query<{ agent_id: string; status: string; revoked: boolean }>(
        'select agent_id, status, revoked_at is not null as revoked from forge_remote_agents order by agent_id',
      );
      expect(rows.map((r) => [r.agent_id, r.status, r.revoked])).toEqual([
        ['ra_1', 'active', false],
        ['ra_2', 'revoked', true],
        ['ra_3', 'revoked', true],
        ['ra_4', 'active', false],
      ]);
    } finally {
      await sql.close();
    }
  });
});
