import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { pgliteClient } from './pglite-client.js';
import { initDataDirInChild } from './pglite-initdb.js';

const sharedBuffers = async (sql: Awaited<ReturnType<typeof pgliteClient>>) =>
  (await sql.query<{ s: string }>("select current_setting('shared_buffers') as s"))[0]?.s;

describe('pgliteClient', () => {
  it('opens in memory from a template made once, with 16 MB of shared buffers', async () => {
    const a = await pgliteClient();
    const b = await pgliteClient();
    try {
      expect(await sharedBuffers(a)).toBe('16MB');
      await a.exec('create table only_in_a (x int)');
      // Each in-memory database is its own copy of the template.
      expect(await b.query("select to_regclass('only_in_a') as t")).toEqual([{ t: null }]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);

  it('opens a data dir made by plain PGlite (before this setting) with 16 MB of shared buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-pglite-'));
    try {
      const plain = await PGlite.create(dir);
      await plain.exec('create table kept (x int); insert into kept values (7)');
      await plain.close();
      const sql = await pgliteClient(dir);
      try {
        expect(await sharedBuffers(sql)).toBe('16MB');
        expect(await sql.query('select x from kept')).toEqual([{ x: 7 }]);
      } finally {
        await sql.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('says why when initdb in the child process fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-pglite-'));
    try {
      // A file where the data dir should be: the child cannot create the database.
      await writeFile(join(dir, 'file'), '');
      await expect(initDataDirInChild(join(dir, 'file'), [])).rejects.toMatchObject({ code: 'STORE_INIT_FAILED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
