import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendBatches, type JournalBatch } from './journal-batch.js';
import type { NewEvent } from './journal-chunks.js';
import { openStore, type ForgeStore, type OpenStoreOptions } from './open-store.js';
import type { RunEnd } from './run-record.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

const ev = (seq: number, type = 'text.delta', webhook = false): NewEvent => ({
  seq,
  type,
  time: 1_000 + seq,
  body: JSON.stringify({ type, seq }),
  ...(webhook ? { webhookId: `msg_${seq}_${Math.random()}` } : {}),
});

const end = (release: boolean, status: RunEnd['status'] = 'completed'): RunEnd => ({
  status,
  result: { status },
  finishedAt: 4_000,
  release,
  usage: { provider: 'scripted', durationMs: 12, tokensIn: 3, tokensOut: 4, costUsd: 0.5 },
});

function contract(name: string, open: () => Promise<OpenStoreOptions>) {
  describe(`journal batches on ${name}`, () => {
    let store: ForgeStore;
    let n = 0;
    /** A new run claimed by `owner`. */
    const running = async (owner: string, webhook = false) => {
      const out = await store.runs.enqueue({
        requestId: `req_${name}_${++n}`,
        userId: 'u',
        agentId: `agt_${n}`,
        request: { prompt: 'p' },
        ...(webhook ? { webhook: { url: 'http://127.0.0.1:1/h', secret: 's' } } : {}),
        now: 1_000 + n,
        maxQueued: 10,
      });
      if ('full' in out) throw new Error('queue full');
      for (;;) {
        const r = await store.runs.claimNext(owner, 2_000, 10_000);
        if (!r) throw new Error('not claimable');
        if (r.requestId === out.run.requestId) return r.requestId;
      }
    };
    const append = (batches: JournalBatch[]) =>
      appendBatches(store.sql, batches, (b) => store.runs.append(b.requestId, b.owner, b.events, b.end));

    // A new PGlite database is initialised in a child process: slow on a busy machine.
    beforeAll(async () => {
      store = await openStore(await open());
    }, 240_000);
    afterAll(async () => {
      await store?.close();
    });

    it('journals many runs in one statement: each its own events, end, outbox and usage; a lost lease or a bad batch fails only its run', async () => {
      const [a, b, c, d] = [
        await running('w1', true),
        await running('w1', true),
        await running('w2'),
        await running('w1'),
      ];
      const journaled: string[] = [];
      const unlisten = await store.runs.onNotify('forge_journal', (id) => journaled.push(id));
      const out = await append([
        { requestId: a, owner: 'w1', events: [ev(1, 'text.delta', true), ev(2, 'message', true)] },
        {
          requestId: b,
          owner: 'w1',
          events: [ev(1, 'text.delta', true), ev(2, 'run.completed', true)],
          end: end(false),
        },
        { requestId: c, owner: 'w1', events: [ev(1)] },
        { requestId: d, owner: 'w1', events: [ev(1), ev(3)] },
      ]);
      expect(out.map((e) => (e as { code?: string } | undefined)?.code)).toEqual([
        undefined,
        undefined,
        'RUN_LEASE_LOST',
        'STORE_BAD_EVENT',
      ]);
      expect((await store.runs.events(a, 0)).map((e) => [e.seq, e.type, e.body])).toEqual([
        [1, 'text.delta', ev(1).body],
        [2, 'message', ev(2, 'message').body],
      ]);
      expect((await store.runs.events(b, 1)).map((e) => e.type)).toEqual(['run.completed']);
      expect(await store.runs.events(c, 0)).toEqual([]);
      expect(await store.runs.events(d, 0)).toEqual([]);
      const [ra, rb, rc] = [await store.runs.get(a), await store.runs.get(b), await store.runs.get(c)];
      expect([ra?.status, ra?.eventCount, ra?.owner]).toEqual(['running', 2, 'w1']);
      expect([rb?.status, rb?.eventCount, rb?.owner, rb?.finishedAt, rb?.result]).toEqual([
        'completed',
        2,
        'w1',
        4_000,
        { status: 'completed' },
      ]);
      expect([rc?.status, rc?.eventCount, rc?.owner]).toEqual(['running', 0, 'w2']);
      expect((await store.runs.pendingOutbox(b)).map((p) => [p.seq, p.isFinal])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect((await store.runs.pendingOutbox(a)).map((p) => [p.seq, p.isFinal])).toEqual([
        [1, false],
        [2, false],
      ]);
      const usage = await store.sql.query('select * from forge_run_usage where request_id = $1', [b]);
      expect(usage.map((u) => [u.provider, Number(u.tokens_in), Number(u.cost_usd), u.status])).toEqual([
        ['scripted', 3, 0.5, 'completed'],
      ]);
      // A released end gives the run up in the same statement; later batches of it are refused.
      const [released] = await append([
        { requestId: a, owner: 'w1', events: [ev(3, 'run.completed')], end: end(true) },
      ]);
      expect(released).toBeUndefined();
      expect((await store.runs.get(a))?.owner).toBeUndefined();
      const [late] = await append([{ requestId: a, owner: 'w1', events: [ev(4)] }]);
      expect(late).toMatchObject({ code: 'RUN_LEASE_LOST' });
      await new Promise((r) => setTimeout(r, 50));
      expect(journaled).toEqual(expect.arrayContaining([a, b]));
      expect(journaled).not.toContain(c);
      await unlisten?.();
    });

    it('a value the database refuses fails only its run: the others commit', async () => {
      const [a, b] = [await running('w1'), await running('w1')];
      const out = await append([
        { requestId: a, owner: 'w1', events: [ev(1)] },
        // Not a status the table allows: the shared statement fails, then each run is tried alone.
        { requestId: b, owner: 'w1', events: [ev(1, 'run.completed')], end: end(true, 'bogus' as 'failed') },
      ]);
      expect(out[0]).toBeUndefined();
      expect(out[1]).toMatchObject({ code: 'STORE_WRITE_FAILED' });
      expect((await store.runs.events(a, 0)).map((e) => e.seq)).toEqual([1]);
      expect(await store.runs.events(b, 0)).toEqual([]);
      expect((await store.runs.get(b))?.status).toBe('running');
    });
  });
}

contract('PGlite', async () => ({ memory: true }));

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  contract('PostgreSQL', async () => ({ databaseUrl: await pg.create() }));
});
