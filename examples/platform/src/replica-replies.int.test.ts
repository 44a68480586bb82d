import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';

/**
 * Two platform processes (test-support/durable-platform.ts, the real startPlatform) on one
 * PostgreSQL behind no load balancer: the test sends each reply to the replica that is not running
 * the run. Then the owner is killed with SIGKILL while a question waits, and the answer sent to the
 * survivor must come back (the 404 of a run that no longer waits) rather than hang.
 */
const KEY = 'alice-replica-replies-key';
const pg = await testDatabases();

async function until<T>(check: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!pg.url)(`replies across two platform processes${pg.url ? '' : ` (skipped: ${pg.reason})`}`, () => {
  afterAll(() => pg.dropAll());

  it('delivers replies sent to the replica that does not run the run; the owner killed, a waiting answer ends in 404', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-replica-replies-'));
    const databaseUrl = await pg.create();
    const env = {
      FORGE_API_KEYS: `alice:${KEY}`,
      FORGE_DATA_DIR: data,
      FORGE_PORT: '0',
      FORGE_RATE_LIMIT: '1000000',
      FORGE_DATABASE_URL: databaseUrl,
      FORGE_LEASE_MS: '2000',
      // Longer than the lease: a reply to a dead owner must end when its lease lapses, not by timing out.
      FORGE_REPLY_TIMEOUT_MS: '60000',
      FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
    };
    let store: ForgeStore | undefined;
    const procs: PlatformProcess[] = [];
    try {
      procs.push(...(await Promise.all([startPlatformProcess(env), startPlatformProcess(env)])));
      store = await openStore({ databaseUrl });
      const db = store;
      const agentId = (await apiClient(procs[0]!.url, KEY)('POST', '/api/v1/agents', { body: { provider: 'asker' } }))
        .json.agent_id as string;
      /** Sends a message, then finds which replica runs it: returns [owner, the other]. */
      const start = async (content: string) => {
        const sent = await apiClient(procs[0]!.url, KEY)('POST', `/api/v1/agents/${agentId}/messages`, {
          body: { content },
        });
        expect(sent.status).toBe(202);
        const rid = sent.json.request_id as string;
        const owner = await until(async () => {
          const [row] = await db.sql.query<{ owner: string | null }>(
            `select owner from forge_runs where request_id = $1 and status = 'running'`,
            [rid],
          );
          return row?.owner ?? undefined;
        }, 'the run starting');
        const running = procs.find((p) => p.instance === owner)!;
        const other = procs.find((p) => p !== running)!;
        return { rid, running, other };
      };
      const waitsFor = (rid: string, type: string) =>
        until(async () => {
          const events = await db.runs.events(rid, 0);
          return events.some((e) => e.type === type);
        }, type);
      const statusOf = async (p: PlatformProcess, rid: string) =>
        (await apiClient(p.url, KEY)('GET', `/api/v1/agents/${agentId}/runs/${rid}`)).json as {
          status: string;
          error?: { code: string };
        };

      // A permission reply through the replica that does not run it.
      const perm = await start('permission');
      await waitsFor(perm.rid, 'permission.requested');
      const viaOther = apiClient(perm.other.url, KEY);
      const viaOwner = apiClient(perm.running.url, KEY);
      const nope = await viaOther('POST', `/api/v1/agents/${agentId}/permissions/perm_nope`, {
        body: { decision: 'allow' },
      });
      expect(nope.status).toBe(404);
      expect(nope.json).toEqual(
        (await viaOwner('POST', `/api/v1/agents/${agentId}/permissions/perm_nope`, { body: { decision: 'allow' } }))
          .json,
      );
      const allowed = await viaOther('POST', `/api/v1/agents/${agentId}/permissions/perm_1`, {
        body: { decision: 'allow' },
      });
      expect(allowed.status, allowed.text).toBe(200);
      expect(allowed.json.request_id).toBe(perm.rid);
      await until(async () => (await statusOf(perm.other, perm.rid)).status === 'completed', 'the permission run');

      // A question answered through the other replica.
      const q = await start('question');
      await waitsFor(q.rid, 'question.requested');
      const answered = await apiClient(q.other.url, KEY)('POST', `/api/v1/agents/${agentId}/questions/q_1`, {
        body: { answers: [['Blue']] },
      });
      expect(answered.status, answered.text).toBe(200);
      await until(async () => (await statusOf(q.other, q.rid)).status === 'completed', 'the question run');
      const events = (await db.runs.events(q.rid, 0)).map((e) => e.body).join('\n');
      expect(events).toContain('"answers":[["Blue"]]');

      // The owner dies while its run waits on a question: the answer sent to the survivor does not hang.
      const dying = await start('question');
      await waitsFor(dying.rid, 'question.requested');
      await dying.running.kill9();
      const late = await apiClient(dying.other.url, KEY)('POST', `/api/v1/agents/${agentId}/questions/q_1`, {
        body: { answers: [['Blue']] },
      });
      expect(late.status, late.text).toBe(404);
      expect(late.json.error.code).toBe('QUESTION_NOT_FOUND');
      const ended = await until(async () => {
        const run = await statusOf(dying.other, dying.rid);
        return run.status === 'failed' ? run : undefined;
      }, 'the dead owner’s run taken over and ended');
      expect(ended.error?.code).toBe('PLATFORM_RESTARTED');
      expect(await db.sql.query('select id from forge_run_commands')).toEqual([]);
    } finally {
      for (const p of procs) await p.kill9();
      await store?.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 120_000);
});
