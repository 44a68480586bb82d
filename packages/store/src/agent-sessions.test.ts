import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAgentSessions } from './agent-sessions.js';
import { migrate } from './migrations.js';
import { pgliteClient } from './pglite-client.js';
import { postgresClient } from './postgres-client.js';
import { sqlSessionStore } from './session-store.js';
import type { SqlClient } from './sql.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();
afterAll(() => pg.dropAll());

describe.each([
  ['PGlite', true, () => pgliteClient()],
  ['PostgreSQL', Boolean(pg.url), async () => postgresClient(await pg.create())],
] as const)('sqlAgentSessions on %s', (_engine, available, open) => {
  let sql: SqlClient;
  let clock = 1_000;
  const save = (sessionId: string, title: string) =>
    sqlSessionStore(sql, { now: () => clock }).save(
      { provider: 'claude-code', sessionId },
      { files: [{ path: 'a.jsonl', data: new TextEncoder().encode(`{"t":"${title}"}\n`) }], title },
    );
  let n = 0;
  const run = (userId: string, agentId: string, request: object, result?: object) =>
    sql.query(
      `insert into forge_runs (request_id, user_id, agent_id, status, request, result, created_at)
         values ($1, $2, $3, $4, $5, $6, 0)`,
      [
        `run_${++n}`,
        userId,
        agentId,
        result ? 'completed' : 'running',
        JSON.stringify(request),
        result ? JSON.stringify(result) : null,
      ],
    );

  beforeAll(async () => {
    if (!available) return;
    sql = await open();
    await migrate(sql);
  }, 120_000);
  afterAll(() => sql?.close());

  it.skipIf(!available)("lists the sessions the agent's runs started or continued, never another agent's", async () => {
    await save('s-1', 'first');
    clock = 2_000;
    await save('s-2', 'second');
    await save('s-bob', 'bob');
    // A model's answer may hold a NUL escape: the text column keeps it, and the listing still reads the row.
    await run(
      'alice',
      'ag_1',
      { prompt: 'hi' },
      { status: 'completed', sessionId: 's-1', text: 'a\u0000b\ud800 \\u0000' },
    );
    await run('alice', 'ag_1', { prompt: 'more', sessionId: 's-2' });
    await run('bob', 'ag_2', { prompt: 'mine' }, { status: 'completed', sessionId: 's-bob' });
    const listed = await sqlAgentSessions(sql).list('alice', 'ag_1');
    expect(listed.map((s) => [s.sessionId, s.title])).toEqual([
      ['s-2', 'second'],
      ['s-1', 'first'],
    ]);
    expect(await sqlAgentSessions(sql).list('bob', 'ag_1')).toEqual([]);
  });

  it.skipIf(!available)(
    'retention deletes the sessions no run names that were not saved since the cut-off',
    async () => {
      clock = 3_000;
      await save('s-orphan-old', 'old');
      clock = 9_000;
      await save('s-orphan-new', 'new');
      const { sessions } = await sqlAgentSessions(sql).sweep(5_000);
      expect(sessions).toBe(1);
      const left = await sqlSessionStore(sql).list();
      expect(left.map((s) => s.sessionId).sort()).toEqual(['s-1', 's-2', 's-bob', 's-orphan-new']);
      // Once its run is gone, a session goes too.
      await sql.query(`delete from forge_runs where agent_id = 'ag_2'`);
      expect((await sqlAgentSessions(sql).sweep(5_000)).sessions).toBe(1);
      expect(await sqlSessionStore(sql).load({ provider: 'claude-code', sessionId: 's-bob' })).toBeUndefined();
    },
  );
});
