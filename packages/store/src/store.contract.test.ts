import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAgentPresence } from './agent-presence.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { openStore, type ForgeStore, type OpenStoreOptions } from './open-store.js';
import { pgliteClient } from './pglite-client.js';
import {
  CANCEL_CHANNEL,
  JOURNAL_CHANNEL,
  QUEUE_CHANNEL,
  RunStore,
  type NewEvent,
  type RunRecord,
} from './run-store.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

const ev = (seq: number, type = 'text.delta', webhook = false): NewEvent => ({
  seq,
  type,
  time: 1_000 + seq,
  body: JSON.stringify({ type, seq }),
  ...(webhook ? { webhookId: `msg_${seq}_${Math.random()}` } : {}),
});

const finalOf = (status: 'failed' | 'cancelled', release: boolean) => (seq: number) => ({
  event: ev(seq, 'run.completed', !release),
  end: { status, result: { status }, error: { code: 'X' }, finishedAt: 5_000, release },
});

function contract(name: string, open: () => Promise<OpenStoreOptions>) {
  describe(`store contract on ${name}`, () => {
    let store: ForgeStore;
    let n = 0;
    const agent = () => `agt_${name}_${++n}`;
    const enqueue = async (agentId: string, extra: { webhook?: boolean; maxQueued?: number } = {}) => {
      const out = await store.runs.enqueue({
        requestId: `req_${name}_${++n}`,
        userId: 'u',
        agentId,
        request: { prompt: `p${n}` },
        ...(extra.webhook ? { webhook: { url: 'http://127.0.0.1:1/h', secret: 's' } } : {}),
        now: 1_000 + n,
        maxQueued: extra.maxQueued ?? 100,
      });
      if ('full' in out) throw new Error('queue full');
      return out.run;
    };
    /** Claims until the run of `requestId` is claimed (other tests' runs are claimed too and left running). */
    const claim = async (owner: string, requestId: string): Promise<RunRecord> => {
      for (;;) {
        const r = await store.runs.claimNext(owner, 2_000, 10_000);
        if (!r) throw new Error(`${requestId} not claimable`);
        if (r.requestId === requestId) return r;
      }
    };

    beforeAll(async () => {
      store = await openStore(await open());
    });
    afterAll(async () => {
      await store?.close();
    });

    it('migrates once: a second run applies nothing, a newer database is refused', async () => {
      expect(store.migrated).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(store.sql)).toEqual([]);
      await expect(
        migrate(
          store.sql,
          MIGRATIONS.map((m) => ({ ...m, sql: '' })),
        ),
      ).resolves.toEqual([]);
      await store.sql.query('insert into forge_schema_migrations values (999, $1, 0)', ['future']);
      await expect(migrate(store.sql)).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
      await store.sql.query('delete from forge_schema_migrations where version = 999');
    });

    it('queues per agent in FIFO order, one running at a time, and caps the queue', async () => {
      const a = agent();
      const b = agent();
      const a1 = await enqueue(a);
      const a2 = await enqueue(a);
      const b1 = await enqueue(b);
      expect(a1.status).toBe('queued');
      expect((await store.runs.get(a1.requestId))?.request).toEqual({ prompt: a1.request.prompt });
      const full = await store.runs.enqueue({
        requestId: 'req_full',
        userId: 'u',
        agentId: a,
        request: {},
        now: 1,
        maxQueued: 2,
      });
      expect(full).toEqual({ full: true, queued: 2 });
      expect((await claim('i1', a1.requestId)).status).toBe('running');
      // a2 waits behind a1; b1 is free to go.
      expect((await claim('i1', b1.requestId)).owner).toBe('i1');
      const active = await store.runs.active('u', a);
      expect(active.running?.requestId).toBe(a1.requestId);
      expect(active.queued.map((r) => r.requestId)).toEqual([a2.requestId]);
      await store.runs.append(a1.requestId, 'i1', [ev(1)], {
        status: 'completed',
        result: { status: 'completed', text: 'ok' },
        finishedAt: 3_000,
        release: true,
      });
      expect((await claim('i2', a2.requestId)).owner).toBe('i2');
      const listed = await store.runs.list('u', a, { limit: 1 });
      expect(listed.map((r) => r.requestId)).toEqual([a2.requestId]);
      const next = await store.runs.list('u', a, { limit: 5, before: listed[0]!.position });
      expect(next.map((r) => r.requestId)).toEqual([a1.requestId]);
      expect(next[0]).toMatchObject({ status: 'completed', result: { text: 'ok' }, eventCount: 1, finishedAt: 3_000 });
      expect((await store.runs.activity('u')).get(a)).toEqual({ running: a2.requestId, queued: 0 });
    });

    it('claims each queued run exactly once when many claimers race', async () => {
      const agents = Array.from({ length: 12 }, agent);
      const ids = new Set<string>();
      for (const a of agents) for (let i = 0; i < 3; i++) ids.add((await enqueue(a)).requestId);
      const claimed: string[] = [];
      const claimer = async (owner: string) => {
        for (
          let r = await store.runs.claimNext(owner, 2_000, 10_000);
          r;
          r = await store.runs.claimNext(owner, 2_000, 10_000)
        ) {
          claimed.push(r.requestId);
          // Finish it so the agent's next run becomes claimable.
          await store.runs.append(r.requestId, owner, [ev(1)], {
            status: 'completed',
            result: {},
            finishedAt: 3_000,
            release: true,
          });
        }
      };
      await Promise.all(['c1', 'c2', 'c3', 'c4'].map(claimer));
      const mine = claimed.filter((id) => ids.has(id));
      expect(mine.length).toBe(ids.size);
      expect(new Set(mine).size).toBe(ids.size);
    });

    it('journals events in seq order with their outbox rows, and refuses a writer that lost its lease', async () => {
      const run = await enqueue(agent(), { webhook: true });
      await claim('w1', run.requestId);
      await store.runs.append(run.requestId, 'w1', [ev(1, 'text.delta', true), ev(2, 'message', true)]);
      await store.runs.append(run.requestId, 'w1', [ev(3, 'run.completed', true)], {
        status: 'completed',
        result: { status: 'completed' },
        finishedAt: 4_000,
        release: false,
      });
      expect((await store.runs.events(run.requestId, 0)).map((e) => [e.seq, e.type])).toEqual([
        [1, 'text.delta'],
        [2, 'message'],
        [3, 'run.completed'],
      ]);
      expect((await store.runs.events(run.requestId, 1, 1)).map((e) => e.seq)).toEqual([2]);
      const pending = await store.runs.pendingOutbox(run.requestId);
      expect(pending.map((p) => [p.seq, p.isFinal])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect(JSON.parse(pending[0]!.body)).toEqual({ type: 'text.delta', seq: 1 });
      await store.runs.settleOutbox(run.requestId, 1, 'delivered', 5);
      expect(await store.runs.release(run.requestId, 'w1')).toBe(false); // 2 and 3 are pending
      await store.runs.settleOutbox(run.requestId, 2, 'rejected', 5);
      expect(await store.runs.failPendingOutbox(run.requestId, 6)).toBe(1);
      expect(await store.runs.release(run.requestId, 'w1')).toBe(true);
      expect((await store.runs.get(run.requestId))?.owner).toBeUndefined();
      await expect(store.runs.append(run.requestId, 'w1', [ev(4)])).rejects.toMatchObject({ code: 'RUN_LEASE_LOST' });
    });

    it('reads a batch back from any seq, keeps a huge event whole, and refuses a batch it would store wrong', async () => {
      const run = await enqueue(agent(), { webhook: true });
      await claim('w1', run.requestId);
      const big = 'x'.repeat(9 * 1024 * 1024);
      const batch = [ev(1), ev(2), { ...ev(3), body: JSON.stringify({ big }) }, ev(4, 'text.delta', true), ev(5)];
      await store.runs.append(run.requestId, 'w1', batch);
      expect((await store.runs.events(run.requestId, 0)).map((e) => [e.seq, e.time])).toEqual(
        batch.map((e) => [e.seq, e.time]),
      );
      expect((await store.runs.events(run.requestId, 3, 2)).map((e) => e.body)).toEqual([
        batch[3]!.body,
        batch[4]!.body,
      ]);
      expect((await store.runs.events(run.requestId, 1, 2)).map((e) => e.body.length)).toEqual([
        batch[1]!.body.length,
        big.length + 10,
      ]);
      expect((await store.runs.pendingOutbox(run.requestId)).map((o) => [o.seq, o.body])).toEqual([
        [4, batch[3]!.body],
      ]);
      // A raw newline would split a body on reading, a gap would shift every later seq: nothing of the batch is kept.
      await expect(store.runs.append(run.requestId, 'w1', [ev(6), { ...ev(7), body: '{\n}' }])).rejects.toMatchObject({
        code: 'STORE_BAD_EVENT',
      });
      await expect(store.runs.append(run.requestId, 'w1', [ev(6), ev(8)])).rejects.toMatchObject({
        code: 'STORE_BAD_EVENT',
      });
      expect((await store.runs.events(run.requestId, 5)).length).toBe(0);
      expect((await store.runs.get(run.requestId))?.eventCount).toBe(5);
    });

    it('notifies listeners at commit: a batch journaled, a run queued or freed, a cancel asked of its owner', async () => {
      const heard: string[] = [];
      const unlisten = await Promise.all(
        ([JOURNAL_CHANNEL, QUEUE_CHANNEL, CANCEL_CHANNEL] as const).map((channel) =>
          store.runs.onNotify(channel, (payload) => heard.push(`${channel}:${payload}`)),
        ),
      );
      try {
        const heardAll = async (expected: string[]) => {
          for (let i = 0; i < 500 && !expected.every((e) => heard.includes(e)); i++)
            await new Promise((r) => setTimeout(r, 10));
          expect(heard).toEqual(expect.arrayContaining(expected));
        };
        const a = agent();
        const queued = await store.runs.enqueue({
          requestId: `req_${name}_notify`,
          userId: 'u',
          agentId: a,
          request: { prompt: 'p' },
          now: 1,
          maxQueued: 10,
          by: 'w9',
        });
        if ('full' in queued) throw new Error('full');
        await heardAll([`${QUEUE_CHANNEL}:w9`]);
        await claim('w9', queued.run.requestId);
        await store.runs.append(queued.run.requestId, 'w9', [ev(1)]);
        await heardAll([`${JOURNAL_CHANNEL}:${queued.run.requestId}`]);
        expect(await store.runs.requestCancel(queued.run.requestId)).toBe(true);
        await heardAll([`${CANCEL_CHANNEL}:w9`]);
        expect(await store.runs.cancelsFor('w9')).toEqual([queued.run.requestId]);
        heard.length = 0;
        await store.runs.append(queued.run.requestId, 'w9', [ev(2, 'run.completed')], {
          status: 'cancelled',
          result: { status: 'cancelled' },
          finishedAt: 3,
          release: true,
        });
        // The agent is free again: instances waiting to run its next message hear it.
        await heardAll([`${JOURNAL_CHANNEL}:${queued.run.requestId}`, `${QUEUE_CHANNEL}:w9`]);
        expect(await store.runs.cancelsFor('w9')).toEqual([]);
      } finally {
        await Promise.all(unlisten.map((u) => u?.()));
      }
    });

    it('ends a queued run with one final event, and only once', async () => {
      const run = await enqueue(agent());
      const done = await store.runs.finish(run.requestId, ['queued'], 'x', 9, finalOf('cancelled', true));
      expect(done).toMatchObject({ status: 'cancelled', eventCount: 1 });
      expect(done?.owner).toBeUndefined();
      expect(await store.runs.finish(run.requestId, ['queued'], 'x', 9, finalOf('cancelled', true))).toBeUndefined();
      expect((await store.runs.events(run.requestId, 0)).map((e) => e.type)).toEqual(['run.completed']);
    });

    it('hands a dead holder’s runs to another instance, which ends them after the last journaled event', async () => {
      const run = await enqueue(agent(), { webhook: true });
      await claim('dead', run.requestId);
      await store.runs.append(run.requestId, 'dead', [ev(1, 'text.delta', true), ev(2, 'text.delta', true)]);
      const hb = await store.runs.heartbeat('dead', 2_500, 3_000);
      expect(hb.held.has(run.requestId)).toBe(true);
      expect(await store.runs.requestCancel(run.requestId)).toBe(true);
      expect((await store.runs.heartbeat('dead', 2_600, 3_000)).cancelRequested).toContain(run.requestId);
      // Not yet expired: nobody takes it.
      expect((await store.runs.takeOver('alive', 2_900, 20_000)).map((r) => r.requestId)).not.toContain(run.requestId);
      const taken = await store.runs.takeOver('alive', 3_001, 20_000);
      expect(taken.find((r) => r.requestId === run.requestId)).toMatchObject({ status: 'running', owner: 'alive' });
      expect((await store.runs.heartbeat('dead', 3_100, 30_000)).held.has(run.requestId)).toBe(false);
      await expect(store.runs.append(run.requestId, 'dead', [ev(3)])).rejects.toMatchObject({ code: 'RUN_LEASE_LOST' });
      const ended = await store.runs.finish(run.requestId, ['running'], 'alive', 20_000, finalOf('failed', false));
      expect(ended).toMatchObject({ status: 'failed', owner: 'alive', eventCount: 3, cancelRequested: false });
      expect((await store.runs.pendingOutbox(run.requestId)).map((p) => p.seq)).toEqual([1, 2, 3]);
      await store.runs.expireLeases('alive');
      expect((await store.runs.takeOver('third', 3_002, 40_000)).map((r) => r.requestId)).toContain(run.requestId);
      expect((await store.runs.takeOver('third', 3_003, 50_000, { mine: true })).map((r) => r.requestId)).toContain(
        run.requestId,
      );
    });

    it('sweeps settled runs by age and by total events', async () => {
      const a = agent();
      const runs: RunRecord[] = [];
      for (const [i, count] of [
        [1, 5],
        [2, 5],
        [3, 5],
      ] as const) {
        const r = await enqueue(a);
        await claim('s', r.requestId);
        await store.runs.append(
          r.requestId,
          's',
          Array.from({ length: count }, (_, k) => ev(k + 1)),
          {
            status: 'completed',
            result: {},
            finishedAt: 100_000 * i,
            release: true,
          },
        );
        runs.push(r);
      }
      await store.runs.sweep({ finishedBefore: 150_000, maxEvents: 1_000_000 });
      expect(await store.runs.get(runs[0]!.requestId)).toBeUndefined();
      expect(await store.runs.events(runs[0]!.requestId, 0)).toEqual([]);
      // Other tests' runs are newer (finishedAt 3 000-5 000 < these), so keep the newest 5 events: run 3 only.
      await store.runs.sweep({ finishedBefore: 0, maxEvents: 5 });
      expect(await store.runs.get(runs[1]!.requestId)).toBeUndefined();
      expect(await store.runs.get(runs[2]!.requestId)).toBeDefined();
    });

    it('keeps dial-home agents and spends an enrolment token exactly once under a race', async () => {
      const c = store.credentials;
      await c.put({ agentId: 'ra_1', name: 'laptop', credentialHash: 'h1', enrolledAt: 10 });
      await c.put({ agentId: 'ra_2', name: 'vm', credentialHash: 'h2', enrolledAt: 11, provider: 'scripted' });
      await c.put({
        agentId: 'ra_1',
        name: 'laptop',
        credentialHash: 'h1',
        enrolledAt: 10,
        revokedAt: 20,
        lastSeen: 19,
      });
      expect(await c.get('ra_1')).toEqual({
        agentId: 'ra_1',
        name: 'laptop',
        credentialHash: 'h1',
        enrolledAt: 10,
        revokedAt: 20,
        lastSeen: 19,
      });
      expect((await c.list()).map((r) => r.agentId)).toEqual(['ra_1', 'ra_2']);
      const [status] = await store.sql.query('select status from forge_remote_agents where agent_id = $1', ['ra_1']);
      expect(status?.status).toBe('revoked');
      const wins = await Promise.all(Array.from({ length: 8 }, () => c.consumeToken('jti_1', 1_000, 100)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await c.consumeToken('jti_1', 1_000, 999)).toBe(false);
      // Expired spent tokens are forgotten (the token itself is refused as expired by then).
      expect(await c.consumeToken('jti_1', 2_000, 1_000)).toBe(true);
    });

    it('updates an agent atomically: a revocation written meanwhile is never written back over', async () => {
      const c = store.credentials;
      await c.put({ agentId: 'ra_u', name: 'desk', credentialHash: 'h', enrolledAt: 1 });
      expect(await c.update!('nobody', (r) => r)).toBeUndefined();
      // Twenty "last seen" updates racing one revocation: the revocation survives whatever the order.
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => c.update!('ra_u', (r) => ({ ...r, lastSeen: 100 + i }))),
        c.update!('ra_u', (r) => ({ ...r, revokedAt: 50 })),
      ]);
      const after = await c.get('ra_u');
      expect(after?.revokedAt).toBe(50);
      expect(after?.lastSeen).toBeGreaterThanOrEqual(100);
    });

    it('records which instance holds a remote agent: shared status and last seen, takeover, revocation, a dead holder', async () => {
      const T = 10_000_000;
      let clock = T;
      const now = () => clock;
      const ra = `ra_${name}_${++n}`;
      const rb = `ra_${name}_${++n}`;
      for (const agentId of [ra, rb])
        await store.credentials.put({ agentId, name: agentId, credentialHash: 'h', enrolledAt: 1 });
      const a = sqlAgentPresence(store.sql, { instanceId: `pa_${name}`, staleAfterMs: 1_000, now });
      const b = sqlAgentPresence(store.sql, { instanceId: `pb_${name}`, staleAfterMs: 1_000, now });
      await store.runs.heartbeat(`pa_${name}`, T, T + 1_000);
      await store.runs.heartbeat(`pb_${name}`, T, T + 1_000);
      expect((await b.list()).get(ra)).toBeUndefined();

      const s1 = { agentId: ra, sessionId: 's1', since: T, lastSeen: T };
      await a.open(s1);
      expect((await b.list()).get(ra)).toEqual({
        agentId: ra,
        online: true,
        holder: `pa_${name}`,
        since: T,
        lastSeen: T,
      });
      // Last seen moves with sync, never back.
      expect(await a.sync([{ ...s1, lastSeen: T + 500 }])).toEqual([]);
      expect(await a.sync([{ ...s1, lastSeen: T + 100 }])).toEqual([]);
      expect((await b.list()).get(ra)?.lastSeen).toBe(T + 500);
      // The credential store's own updates (provider, last seen at the end) leave presence alone.
      await store.credentials.update?.(ra, (r) => ({ ...r, provider: 'scripted' }));
      expect((await b.list()).get(ra)?.holder).toBe(`pa_${name}`);

      // The agent dials B: the newer session wins; A is told at its next sync, and its late close changes nothing.
      const s2 = { agentId: ra, sessionId: 's2', since: T + 600, lastSeen: T + 600 };
      await b.open(s2);
      expect(await a.sync([s1])).toEqual([{ agentId: ra, sessionId: 's1', reason: 'replaced' }]);
      await a.close(s1);
      expect((await a.list()).get(ra)).toMatchObject({ online: true, holder: `pb_${name}`, lastSeen: T + 600 });

      // A run for the agent is claimed only by its holder (B); a run for no remote agent by anyone.
      const agentId = agent();
      const out = await store.runs.enqueue({
        requestId: `req_${name}_${++n}`,
        userId: 'u',
        agentId,
        request: {},
        remoteAgentId: ra,
        now: T,
        maxQueued: 10,
      });
      if ('full' in out) throw new Error('full');
      expect(out.run.remoteAgentId).toBe(ra);
      const claimed: string[] = [];
      for (let r = await store.runs.claimNext(`pa_${name}`, T, T + 1_000); r; ) {
        claimed.push(r.requestId);
        r = await store.runs.claimNext(`pa_${name}`, T, T + 1_000);
      }
      expect(claimed).not.toContain(out.run.requestId);
      expect((await store.runs.claimNext(`pb_${name}`, T, T + 1_000))?.requestId).toBe(out.run.requestId);

      // Revoked through any replica: the holder's next sync says so, and no replica lists it.
      await store.credentials.update?.(ra, (r) => ({ ...r, revokedAt: T + 700 }));
      expect(await b.sync([{ ...s2, lastSeen: T + 800 }])).toEqual([
        { agentId: ra, sessionId: 's2', reason: 'revoked' },
      ]);
      expect((await a.list()).has(ra)).toBe(false);

      // A holder that stops heartbeating: its agents are offline for everyone once its heartbeat is stale,
      // and its queued runs are claimed elsewhere (to fail AGENT_OFFLINE, as offline agents' runs do).
      const s3 = { agentId: rb, sessionId: 's3', since: T, lastSeen: T + 900 };
      await a.open(s3);
      const other = agent();
      const queued = await store.runs.enqueue({
        requestId: `req_${name}_${++n}`,
        userId: 'u',
        agentId: other,
        request: {},
        remoteAgentId: rb,
        now: T,
        maxQueued: 10,
      });
      if ('full' in queued) throw new Error('full');
      clock = T + 900;
      expect((await b.list()).get(rb)?.online).toBe(true);
      expect(await store.runs.claimNext(`pb_${name}`, clock, clock + 1_000)).toBeUndefined();
      clock = T + 1_500;
      expect((await b.list()).get(rb)).toEqual({ agentId: rb, online: false, lastSeen: T + 900 });
      expect((await store.runs.claimNext(`pb_${name}`, clock, clock + 1_000))?.requestId).toBe(queued.run.requestId);
      // Restarted under the same instance id, A holds nothing of its previous life.
      expect(await a.forgetPrevious()).toBe(1);
      await store.runs.heartbeat(`pa_${name}`, clock, clock + 1_000);
      expect((await b.list()).get(rb)).toEqual({ agentId: rb, online: false, lastSeen: T + 900 });
    });

    it('remembers webhook ids until they expire', async () => {
      const s = store.seenWebhooks;
      expect(await s.remember('msg_a', 1_000, 100)).toBe(true);
      expect(await s.remember('msg_a', 1_050, 100)).toBe(false);
      expect(await s.remember('msg_a', 1_100, 100)).toBe(true);
      await s.forget('msg_a');
      expect(await s.remember('msg_a', 1_101, 100)).toBe(true);
    });
  });
}

contract('PGlite', async () => ({ memory: true }));

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  contract('PostgreSQL', async () => ({ databaseUrl: await pg.create() }));
});

describe('migration 2 (journal in chunks)', () => {
  it('carries a version-1 journal over: every event readable, in order, with its outbox row', async () => {
    const sql = await pgliteClient();
    try {
      await migrate(sql, MIGRATIONS.slice(0, 1));
      await sql.query(
        `insert into forge_runs (request_id, user_id, agent_id, status, request, created_at) values ('req_v1', 'u', 'a', 'running', '{}', 1)`,
      );
      for (const e of [ev(1), ev(2), ev(3, 'run.completed')])
        await sql.query('insert into forge_events (request_id, seq, type, time, body) values ($1, $2, $3, $4, $5)', [
          'req_v1',
          e.seq,
          e.type,
          e.time + 0.5,
          e.body,
        ]);
      await sql.query(
        `insert into forge_outbox (request_id, seq, webhook_id, is_final) values ('req_v1', 3, 'msg_v1_3', true)`,
      );
      expect(await migrate(sql)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
      const runs = new RunStore(sql);
      expect(await runs.events('req_v1', 0)).toEqual(
        [ev(1), ev(2), ev(3, 'run.completed')].map((e) => ({
          seq: e.seq,
          type: e.type,
          time: e.time + 0.5,
          body: e.body,
        })),
      );
      expect((await runs.pendingOutbox('req_v1')).map((o) => [o.seq, o.webhookId, o.isFinal])).toEqual([
        [3, 'msg_v1_3', true],
      ]);
    } finally {
      await sql.close();
    }
  });
});

describe('PGlite data directory', () => {
  it('keeps data across reopen, refuses a second process, takes over a dead holder’s lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-store-'));
    try {
      const first = await openStore({ dataDir: dir });
      await first.credentials.put({ agentId: 'ra', name: 'n', credentialHash: 'h', enrolledAt: 1 });
      await first.close();
      // A lock left by a process that is gone (kill -9) does not block.
      await writeFile(join(dir, 'forge-store.lock'), '2147483646');
      const second = await openStore({ dataDir: dir });
      expect(second.migrated).toEqual([]);
      expect((await second.credentials.get('ra'))?.name).toBe('n');
      await second.close();
      // A live holder does (pid 1 is always alive).
      await writeFile(join(dir, 'forge-store.lock'), '1');
      await expect(openStore({ dataDir: dir })).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // A new data dir runs initdb in a child process: 20–35 s on the shared 2-core machine under load.
  }, 120_000);
});
