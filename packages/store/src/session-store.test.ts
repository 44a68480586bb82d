import { sessionStoreContract } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './migrations.js';
import { pgliteClient } from './pglite-client.js';
import { postgresClient } from './postgres-client.js';
import { sqlSessionStore } from './session-store.js';
import type { SqlClient } from './sql.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();
const clients: SqlClient[] = [];
afterAll(async () => {
  for (const c of clients) await c.close();
  await pg.dropAll();
});

// One database per engine, emptied before each case: starting PGlite takes seconds on a busy machine.
const opened = new Map<string, Promise<SqlClient>>();
async function fresh(engine: 'pglite' | 'postgres'): Promise<SqlClient> {
  let client = opened.get(engine);
  if (!client) {
    client = (async () => {
      const sql = engine === 'pglite' ? await pgliteClient() : await postgresClient(await pg.create());
      clients.push(sql);
      await migrate(sql);
      return sql;
    })();
    opened.set(engine, client);
  }
  const sql = await client;
  await sql.exec('truncate forge_sessions cascade');
  return sql;
}

// Started before the cases, so a slow start counts against the hook's time, not the first case's.
beforeAll(() => fresh('pglite').then(() => {}), 120_000);

sessionStoreContract('sqlSessionStore on PGlite', {
  make: async ({ maxBytes }) => sqlSessionStore(await fresh('pglite'), { maxBytes }),
});
describe.skipIf(!pg.url)('on PostgreSQL', () => {
  sessionStoreContract('sqlSessionStore on PostgreSQL', {
    make: async ({ maxBytes }) => sqlSessionStore(await fresh('postgres'), { maxBytes }),
  });
});

describe('sqlSessionStore', () => {
  it('keeps an append-only file as one row per turn, folds many into one, and loads the same bytes', async () => {
    const sql = await fresh('pglite');
    const store = sqlSessionStore(sql);
    const key = { provider: 'claude-code', sessionId: 'long' };
    let whole = '';
    for (let turn = 0; turn < 150; turn++) {
      const line = `${JSON.stringify({ turn, text: 'x'.repeat(turn) })}\n`;
      await store.save(key, {
        files: [{ path: 'p/s.jsonl', data: new TextEncoder().encode(line), from: whole.length }],
      });
      whole += line;
    }
    const [{ n }] = (await sql.query('select count(*)::int as n from forge_session_chunks')) as [{ n: number }];
    expect(n).toBeLessThan(64);
    const loaded = await store.load(key);
    expect(new TextDecoder().decode(loaded!.files[0]!.data)).toBe(whole);
    expect(loaded!.size).toBe(whole.length);
  });

  it('stores the bytes compressed', async () => {
    const sql = await fresh('pglite');
    const store = sqlSessionStore(sql);
    await store.save({ provider: 'p', sessionId: 's' }, { files: [{ path: 'f', data: new Uint8Array(100_000) }] });
    const [{ bytes }] = (await sql.query('select sum(length(data))::int as bytes from forge_session_chunks')) as [
      { bytes: number },
    ];
    expect(bytes).toBeLessThan(2_000);
  });
});
