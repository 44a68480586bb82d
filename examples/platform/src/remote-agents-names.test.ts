import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { createAgentHub, dialHome, type AgentHub, type DialHome } from '@forge/dial-home';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'names-test-secret-names-test-secret-0123456789';
const pg = await testDatabases();

/** What an agent is told when it is refused. */
const answer = (e: unknown) => {
  const { code, category, retryable, message, details } = e as Record<string, unknown>;
  return { code, category, retryable, message, details };
};

/**
 * Security finding 8: two replicas enrolled one name together (19 of 20 trials), because the hub
 * checks a name is free one enrolment at a time only within its process. Two hubs enrol one name
 * at once, through two stores on one database as two replicas have them (PGlite: two hubs on one
 * store): exactly one agent gets it, the other is refused as a same-hub duplicate is.
 */
function raceOnName(engine: string, open: () => Promise<[ForgeStore, ForgeStore]>) {
  describe(`enrolling one name through two hubs at once on ${engine}`, () => {
    let stores: [ForgeStore, ForgeStore];
    let dir: string;
    const hubs: AgentHub[] = [];
    const urls: string[] = [];
    beforeAll(async () => {
      stores = await open();
      dir = await mkdtemp(join(tmpdir(), 'forge-hub-names-'));
      for (const store of stores) {
        const hub = createAgentHub({ secret: SECRET, credentialStore: store.credentials, heartbeatMs: 1_000 });
        hubs.push(hub);
        urls.push((await hub.listen({ port: 0 })).url);
      }
    });
    afterAll(async () => {
      for (const h of hubs) await h.close();
      for (const s of stores ?? []) await s.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('lets exactly one agent have the name; the other is refused AGENT_NAME_TAKEN', async () => {
      for (let trial = 0; trial < 5; trial++) {
        const name = `twin-${trial}`;
        const tokens = hubs.map((h) => h.issueEnrolmentToken().token);
        const agents: DialHome[] = [0, 1].map((i) =>
          dialHome({
            url: urls[i]!,
            name,
            agent: scriptedAgent({ steps: sampleScript() }),
            credentialFile: join(dir, `${name}-${i}.json`),
            enrolmentToken: tokens[i]!,
            backoff: { initialMs: 20, maxMs: 200 },
            connectTimeoutMs: 5_000,
          }),
        );
        try {
          const outcomes = await Promise.allSettled(agents.map((d) => d.whenOnline()));
          expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
          const [refused] = outcomes.filter((o) => o.status === 'rejected');
          expect(refused?.reason).toMatchObject({ code: 'AGENT_NAME_TAKEN' });
          const live = (await stores[0].credentials.list()).filter((r) => r.name === name && !r.revokedAt);
          expect(live).toHaveLength(1);
          // The same answer as a hub gives a name it already sees taken.
          const late = dialHome({
            url: urls[trial % 2]!,
            name,
            agent: scriptedAgent({ steps: sampleScript() }),
            credentialFile: join(dir, `${name}-late.json`),
            enrolmentToken: hubs[trial % 2]!.issueEnrolmentToken().token,
            connectTimeoutMs: 5_000,
          });
          agents.push(late);
          const duplicate = await late.whenOnline().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(answer(refused?.reason)).toEqual(answer(duplicate));
          // Refused, the loser's token is not spent: it enrols under another name.
          const loser = outcomes.findIndex((o) => o.status === 'rejected');
          const again = dialHome({
            url: urls[loser]!,
            name: `${name}-b`,
            agent: scriptedAgent({ steps: sampleScript() }),
            credentialFile: join(dir, `${name}-again.json`),
            enrolmentToken: tokens[loser]!,
            connectTimeoutMs: 5_000,
          });
          agents.push(again);
          await again.whenOnline();
        } finally {
          await Promise.all(agents.map((d) => d.stop()));
        }
      }
    });
  });
}

raceOnName('PGlite', async () => {
  const store = await openStore({ memory: true });
  return [store, { ...store, close: async () => {} }];
});

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  raceOnName('PostgreSQL', async () => {
    const url = await pg.create();
    return [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
  });
});
