import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** Where tests find a PostgreSQL server they may create databases on (`.ci/run` starts one). */
export const TEST_DATABASE_ENV = 'FORGE_TEST_DATABASE_URL';

export interface TestDatabases {
  /** The server's URL, or undefined when none is reachable (`reason` says why). */
  readonly url: string | undefined;
  readonly reason: string;
  /** A fresh, empty database on the server; dropped by `dropAll`. */
  create(): Promise<string>;
  dropAll(): Promise<void>;
}

/**
 * The PostgreSQL server of FORGE_TEST_DATABASE_URL, checked once. When it is unset or does not
 * answer, tests that need it are skipped, and this says so loudly, so a laptop run is not
 * mistaken for a full one.
 */
export async function testDatabases(): Promise<TestDatabases> {
  const base = process.env[TEST_DATABASE_ENV];
  let reason = '';
  if (!base) reason = `${TEST_DATABASE_ENV} is not set (.ci/run starts a PostgreSQL and sets it)`;
  else {
    const probe = postgres(base, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await probe.unsafe('select 1');
    } catch (error) {
      reason = `PostgreSQL at ${TEST_DATABASE_ENV} did not answer: ${(error as Error).message}`;
    } finally {
      await probe.end({ timeout: 1 }).catch(() => {});
    }
  }
  if (reason) console.warn(`\n*** SKIPPING PostgreSQL tests: ${reason} ***\n`);
  const url = reason ? undefined : base;
  const created: string[] = [];
  const admin = () => postgres(url!, { max: 1, onnotice: () => {} });
  return {
    url,
    reason,
    async create() {
      if (!url) throw new Error(reason);
      const name = `forge_test_${randomBytes(6).toString('hex')}`;
      const sql = admin();
      try {
        await sql.unsafe(`create database ${name}`);
      } finally {
        await sql.end({ timeout: 1 });
      }
      created.push(name);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async dropAll() {
      if (!url || !created.length) return;
      const sql = admin();
      try {
        for (const name of created.splice(0)) await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

export { pgliteTemplateEnv, pgliteTemplateFile, preparePgliteTemplate } from './pglite-template-file.js';
