import { MIGRATIONS, openStore, type Sql } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsPlatform, type OpsPlatform } from '../test-support/ops-platform.js';
import { PlatformHealth } from './health-routes.js';

const NEWEST = Math.max(...MIGRATIONS.map((m) => m.version));

const pg = await testDatabases();

const get = async (base: string, path: string) => {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

function healthContract(name: string, open: () => Promise<OpsPlatform>) {
  describe(`/livez, /readyz and /healthz on the real platform (${name})`, () => {
    let ops: OpsPlatform;
    beforeAll(async () => {
      ops = await open();
    });
    afterAll(async () => ops?.close());

    it('is live and ready without a key, /healthz answering as before', async () => {
      const live = await get(ops.platform.url, '/livez');
      expect(live.status).toBe(200);
      expect(live.json).toMatchObject({ ok: true, backend: 'local', event_loop: { ok: true } });
      const ready = await get(ops.platform.url, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.json.checks).toMatchObject({
        store: { ok: true, schema_version: NEWEST },
        draining: { ok: true },
        event_loop: { ok: true },
      });
      // No hub configured: nothing to check there.
      expect(ready.json.checks.hub).toBeUndefined();
      const health = await get(ops.platform.url, '/healthz');
      expect(health).toMatchObject({ status: 200, json: { ok: true, backend: 'local' } });
    });

    it('turns not ready while draining, and ready again when it stops', async () => {
      ops.platform.health.setDraining(true);
      const draining = await get(ops.platform.url, '/readyz');
      expect(draining.status).toBe(503);
      expect(draining.json).toMatchObject({ ok: false, checks: { draining: { ok: false }, store: { ok: true } } });
      expect((await get(ops.platform.url, '/livez')).status).toBe(200);
      ops.platform.health.setDraining(false);
      expect((await get(ops.platform.url, '/readyz')).status).toBe(200);
    });

    it('turns not ready when its store is closed, and stays live', async () => {
      await ops.store.close();
      const ready = await get(ops.platform.url, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.checks.store.ok).toBe(false);
      expect(typeof ready.json.checks.store.error).toBe('string');
      expect((await get(ops.platform.url, '/livez')).status).toBe(200);
    });
  });
}

healthContract('PGlite', () => startOpsPlatform('memory'));

describe('the drain a SIGTERM starts (platform.drain)', () => {
  let ops: OpsPlatform;
  beforeAll(async () => {
    ops = await startOpsPlatform('memory');
  });
  afterAll(async () => ops?.close());

  it('turns /readyz 503 at once, so the Service stops sending here while runs drain', async () => {
    expect((await get(ops.platform.url, '/readyz')).status).toBe(200);
    await ops.platform.drain(0);
    const ready = await get(ops.platform.url, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ checks: { draining: { ok: false }, store: { ok: true } } });
    expect((await get(ops.platform.url, '/livez')).status).toBe(200);
  });
});

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  healthContract('PostgreSQL', async () => startOpsPlatform(await openStore({ databaseUrl: await pg.create() })));
});

describe('PlatformHealth', () => {
  const answers = (version: number): Sql => ({
    query: async () => [{ version }] as never,
    exec: async () => {},
  });

  it('is not ready while migrations are pending, nor when the store does not answer in time', async () => {
    const behind = new PlatformHealth({ backend: 'local', sql: answers(3) });
    expect((await behind.ready()).body).toMatchObject({ ok: false, checks: { store: { schema_version: 3 } } });
    behind.close();
    const silent = new PlatformHealth({
      backend: 'local',
      sql: { query: () => new Promise(() => {}), exec: async () => {} },
      storeTimeoutMs: 20,
    });
    const ready = await silent.ready();
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({ store: { ok: false, error: 'no answer in 20 ms' } });
    silent.close();
  });

  it('is not ready when remote agents are enabled and the hub does not listen', async () => {
    let listening = true;
    const health = new PlatformHealth({ backend: 'local', sql: answers(NEWEST), hubListening: () => listening });
    expect((await health.ready()).status).toBe(200);
    listening = false;
    expect((await health.ready()).body).toMatchObject({ ok: false, checks: { hub: { ok: false } } });
    health.close();
  });

  it('is not live when the event loop stalls beyond its bound', async () => {
    const health = new PlatformHealth({ backend: 'local', sql: answers(NEWEST), maxEventLoopDelayMs: 50 });
    health.live();
    // The loop blocked for 300 ms, several times over: its p99 delay is far above 50 ms.
    for (let i = 0; i < 3; i++) {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // busy: nothing else runs
      }
      await new Promise((r) => setImmediate(r));
    }
    const stalled = health.live();
    expect(stalled.status).toBe(503);
    expect(stalled.body).toMatchObject({ ok: false, event_loop: { ok: false, limit_ms: 50 } });
    health.close();
  });
});
