import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteClient } from './pglite-client.js';
import { PgliteDatabaseError } from './pglite-database-error.js';
import type { SqlClient } from './sql.js';

describe('PGlite in a worker thread (pgliteClient, worker: true)', () => {
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await pgliteClient(undefined, { worker: true });
    await sql.exec('create table w (id int primary key, note text, at timestamptz, doc jsonb)');
  }, 120_000);
  afterAll(() => sql.close());

  it("crosses PostgreSQL's errors with PGlite's fields and the statement, as PGlite in this thread throws them", async () => {
    const insert = 'insert into w (id, note) values ($1, $2)';
    await sql.query(insert, [1, 'one']);
    const error = await sql.query(insert, [1, 'again']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgliteDatabaseError);
    expect(error).toMatchObject({ code: '23505', constraint: 'w_pkey', query: insert, params: [1, 'again'] });
    const here = await pgliteClient();
    try {
      await here.exec('create table w (id int primary key, note text)');
      await here.query(insert, [1, 'one']);
      const inThread = await here.query(insert, [1, 'again']).catch((e: unknown) => e);
      expect({ ...(error as object), name: (error as Error).name, message: (error as Error).message }).toEqual({
        ...(inThread as object),
        name: (inThread as Error).name,
        message: (inThread as Error).message,
      });
    } finally {
      await here.close();
    }
    await expect(sql.exec('selec 1')).rejects.toMatchObject({ code: '42601' });
    await expect(sql.transaction((tx) => tx.query(insert, [1, 'in tx']))).rejects.toMatchObject({ code: '23505' });
  });

  it('reads rows back typed: dates, json, text PostgreSQL could not hold raw', async () => {
    const at = new Date('2026-12-07T15:00:00.123Z');
    const note = 'nul\u0000 and lone \ud800';
    await sql.query('insert into w (id, note, at, doc) values ($1, $2, $3, $4)', [2, note, at, { a: [1, 'x'] }]);
    expect(await sql.query('select note, at, doc from w where id = $1', [2])).toEqual([
      { note, at, doc: { a: [1, 'x'] } },
    ]);
  });

  it('commits a transaction when its function resolves and rolls it back when it throws', async () => {
    await sql.transaction(async (tx) => {
      await tx.query('insert into w (id, note) values ($1, $2)', [3, 'kept']);
      await tx.exec(`insert into w (id, note) values (4, 'kept too')`);
    });
    const refused = new Error('no');
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('insert into w (id, note) values ($1, $2)', [5, 'undone']);
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(await sql.query('select id from w where id between 3 and 5 order by id')).toEqual([{ id: 3 }, { id: 4 }]);
  });

  it('forwards NOTIFY to listeners until they unlisten', async () => {
    const heard: string[] = [];
    const unlisten = await sql.listen!('w_channel', (payload) => heard.push(payload));
    await sql.query("select pg_notify('w_channel', $1)", ['first\u0000']);
    await unlisten();
    await sql.query("select pg_notify('w_channel', 'second')");
    await sql.query('select 1');
    expect(heard).toEqual(['first\u0000']);
  });
});

describe('closing the worker', () => {
  it('refuses statements once closed', async () => {
    const sql = await pgliteClient(undefined, { worker: true });
    await sql.close();
    await expect(sql.query('select 1')).rejects.toThrow('PGlite is closed');
  }, 120_000);

  it('does not keep a process alive that never closed it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-pglite-worker-'));
    try {
      const script = join(dir, 'open.mts');
      const client = pathToFileURL(join(import.meta.dirname, 'pglite-client.ts')).href;
      await writeFile(
        script,
        `import { pgliteClient } from ${JSON.stringify(client)};
const sql = await pgliteClient(undefined, { worker: true });
console.log(JSON.stringify(await sql.query('select 7 as n')));`,
      );
      // Ends by itself (the test's timeout otherwise): the open worker holds no handle while idle.
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--conditions=@forge/source',
        '--import',
        'tsx',
        script,
      ]);
      expect(stdout.trim()).toBe('[{"n":7}]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
