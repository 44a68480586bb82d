import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pgliteClient } from './pglite-client.js';
import type { SqlClient } from './sql.js';

describe.each([
  ['in this thread', false],
  ['in a worker thread', true],
])('PGlite statements pipelined (pgliteClient → PglitePipeline), %s', (_, worker) => {
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await pgliteClient(undefined, { worker });
    await sql.exec('create table p (id int primary key, doc jsonb, tags text[], ok boolean, note text)');
  }, 120_000);
  afterAll(() => sql.close());

  it('runs statements sent together in one call each way, each in its own transaction: one failing leaves the others', async () => {
    const calls = vi.spyOn(PGlite.prototype, 'execProtocol');
    try {
      const insert = 'insert into p (id, note) values ($1, $2) returning id';
      const [a, dup, b, read] = await Promise.allSettled([
        sql.query(insert, [1, 'one']),
        sql.query(insert, [1, 'again']),
        sql.query(insert, [2, 'two']),
        sql.query('select id, note from p where id <= $1 order by id', [2]),
      ]);
      expect(a).toEqual({ status: 'fulfilled', value: [{ id: 1 }] });
      expect(dup).toMatchObject({ status: 'rejected', reason: { code: '23505', query: insert } });
      expect(b).toEqual({ status: 'fulfilled', value: [{ id: 2 }] });
      expect(read).toEqual({
        status: 'fulfilled',
        value: [
          { id: 1, note: 'one' },
          { id: 2, note: 'two' },
        ],
      });
      // The worker's calls are in its own thread, where this spy is not.
      if (worker) return;
      // The new texts prepared in one call, all four executed in another.
      expect(calls).toHaveBeenCalledTimes(2);
      calls.mockClear();
      await Promise.all([sql.query(insert, [3, 'three']), sql.query(insert, [4, 'four'])]);
      // Prepared already: one call.
      expect(calls).toHaveBeenCalledTimes(1);
    } finally {
      calls.mockRestore();
    }
  });

  it('sends values by the type PostgreSQL infers for them, as PGlite.query does, and reads rows back typed', async () => {
    await sql.query('insert into p (id, doc, tags, ok, note) values ($1, $2, $3, $4, $5)', [
      10,
      { a: [1, 'x'], 'b"': null },
      ['a', 'b,c', 'd"e', ''],
      false,
      null,
    ]);
    expect(await sql.query('select doc, tags, ok, note from p where id = $1', [10])).toEqual([
      { doc: { a: [1, 'x'], 'b"': null }, tags: ['a', 'b,c', 'd"e', ''], ok: false, note: null },
    ]);
    expect(
      await sql.query('select $1::bigint as big, $2::double precision as f, $3::integer[] as ints', [
        2 ** 40,
        0.5,
        [3, 4],
      ]),
    ).toEqual([{ big: 2 ** 40, f: 0.5, ints: [3, 4] }]);
  });

  it('rejects a statement PostgreSQL cannot parse, alone, and takes the same text again', async () => {
    const [bad, good] = await Promise.allSettled([sql.query('selec 1'), sql.query('select 2 as two')]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: '42601', query: 'selec 1' } });
    expect(good).toEqual({ status: 'fulfilled', value: [{ two: 2 }] });
    await expect(sql.query('selec 1')).rejects.toMatchObject({ code: '42601' });
    // A wrong number of parameters is the statement's error too.
    await expect(sql.query('select $1::int as x', [])).rejects.toMatchObject({ code: '08P01' });
    expect(await sql.query('select $1::int as x', [5])).toEqual([{ x: 5 }]);
  });

  it('answers a prepared `select *` after a migration changed its table (prepared anew)', async () => {
    await sql.exec('create table q (a int)');
    await sql.query('insert into q values ($1)', [1]);
    expect(await sql.query('select * from q')).toEqual([{ a: 1 }]);
    await sql.exec('alter table q add column b text default $$x$$');
    expect(await sql.query('select * from q')).toEqual([{ a: 1, b: 'x' }]);
  });

  it('keeps the order statements, exec and transactions were sent in', async () => {
    await sql.exec('create table o (n serial primary key, what text)');
    const insert = 'insert into o (what) values ($1)';
    await Promise.all([
      sql.query(insert, ['first']),
      sql.transaction(async (tx) => {
        await tx.query(insert, ['second']);
      }),
      sql.query(insert, ['third']),
      sql.exec(`insert into o (what) values ('fourth')`),
      sql.query(insert, ['fifth']),
    ]);
    expect((await sql.query<{ what: string }>('select what from o order by n')).map((r) => r.what)).toEqual([
      'first',
      'second',
      'third',
      'fourth',
      'fifth',
    ]);
  });

  it('keeps answering past the prepared statements it holds (the oldest are closed)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => sql.query<{ n: number }>(`select ${i} as n`)),
    );
    expect(answers.map((r) => r[0]?.n)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(await sql.query('select 0 as n')).toEqual([{ n: 0 }]);
    const [{ prepared }] = (await sql.query<{ prepared: number }>(
      'select count(*)::int as prepared from pg_prepared_statements',
    )) as [{ prepared: number }];
    expect(prepared).toBeLessThanOrEqual(257);
  });
});
