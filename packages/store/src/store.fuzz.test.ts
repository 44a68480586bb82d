import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAgentPresence } from './agent-presence.js';
import { openStore, type ForgeStore, type OpenStoreOptions } from './open-store.js';
import { RunCommands } from './run-commands.js';
import type { NewEvent } from './journal-chunks.js';
import type { RunRecord } from './run-record.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

/**
 * Text PostgreSQL cannot hold as it is: `text` has no NUL, `jsonb` neither NUL (`\u0000`) nor an
 * unpaired surrogate, and a lone surrogate sent as UTF-8 comes back as U+FFFD. A model's answer can
 * hold any of them; the store must keep them exactly, never fail the write.
 */
const HOSTILE = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud800y',
  '\udc00\ud800', // a low surrogate before a high one: two lone halves, not a pair
  '\ud83d\ude00', // a real pair (an emoji): must stay a pair
  '\u0001',
  '\u00010041',
  '\u0001\u0000\ud800',
  '\u0000\u0000\ud800\udc00\udbff',
  '',
];

/** A seeded generator, so a failure reproduces. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Strings of random UTF-16 code units, biased towards the ones that break storage (never a newline: see bodies). */
function arbitraryStrings(count: number, seed: number): string[] {
  const rnd = random(seed);
  const special = [0, 1, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xfeff, 0x2028, 0x22, 0x5c, 0x09];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const units: number[] = [];
    const len = Math.floor(rnd() * 40);
    for (let j = 0; j < len; j++) {
      const u = rnd() < 0.5 ? special[Math.floor(rnd() * special.length)]! : Math.floor(rnd() * 0x10000);
      units.push(u === 0x0a ? 0x0b : u);
    }
    out.push(String.fromCharCode(...units));
  }
  return out;
}

const MB = 'é\u0000\ud800'.repeat(350_000); // about a million UTF-16 units, every third one hostile

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { [`k\u0000${i % 7}`]: v };
  return v;
}

const strings = [...HOSTILE, ...arbitraryStrings(60, 7)];

function fuzz(name: string, open: () => Promise<OpenStoreOptions>) {
  describe(`store keeps arbitrary text on ${name}`, () => {
    let store: ForgeStore;
    let n = 0;

    beforeAll(async () => {
      store = await openStore(await open());
    });
    afterAll(async () => {
      await store?.close();
    });

    const run = async (request: Record<string, unknown>): Promise<RunRecord> => {
      const out = await store.runs.enqueue({
        requestId: `req_fuzz_${++n}`,
        userId: 'u',
        agentId: `agt_fuzz_${n}`,
        request,
        webhook: { url: 'http://127.0.0.1:1/h', secret: strings[n % strings.length]! },
        now: n,
        maxQueued: 10,
      });
      if ('full' in out) throw new Error('full');
      for (;;) {
        const r = await store.runs.claimNext('w', 100, 1e12);
        if (!r) throw new Error('not claimable');
        if (r.requestId === out.run.requestId) return r;
      }
    };

    it('keeps a run’s request, events, outbox bodies, result and error exactly, through append', async () => {
      const request = { prompt: strings, nested: { '\u0000key\ud800': '\ud800\u0000' } };
      const r = await run(request);
      expect((await store.runs.get(r.requestId))?.request).toEqual(request);
      // Bodies as the store takes them: any text without a raw newline (JSON or not).
      const events: NewEvent[] = strings.map((s, i) => ({
        seq: i + 1,
        type: `t${s}`,
        time: i,
        body: s,
        ...(i % 3 ? {} : { webhookId: `msg_${n}_${i}` }),
      }));
      await store.runs.append(r.requestId, 'w', events.slice(0, 10));
      const result = { status: 'completed', text: strings.join('|'), parts: strings };
      const error = { code: 'X\u0000', message: '\udc00' };
      await store.runs.append(r.requestId, 'w', events.slice(10), {
        status: 'completed',
        result,
        error,
        finishedAt: 5,
        release: false,
      });
      const read = await store.runs.events(r.requestId, 0, 10_000);
      expect(read.map((e) => e.body)).toEqual(strings);
      expect(read.map((e) => e.type)).toEqual(events.map((e) => e.type));
      expect((await store.runs.pendingOutbox(r.requestId)).map((o) => o.body)).toEqual(
        events.filter((e) => e.webhookId).map((e) => e.body),
      );
      const after = await store.runs.get(r.requestId);
      expect(after).toMatchObject({ status: 'completed', result, error, eventCount: strings.length });
    });

    it('keeps a megabyte of hostile text and deeply nested JSON, in the journal and the result', async () => {
      const deep = nested(3_000, MB.slice(0, 1_000));
      const r = await run({ prompt: MB, deep });
      // Compared as JSON: a deep equality walks 3,000 levels recursively and can overflow the stack.
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      expect(same((await store.runs.get(r.requestId))?.request, { prompt: MB, deep })).toBe(true);
      await store.runs.append(
        r.requestId,
        'w',
        [{ seq: 1, type: 'message', time: 1, body: MB, webhookId: `msg_mb_${n}` }],
        {
          status: 'completed',
          result: { text: MB, deep },
          finishedAt: 2,
          release: false,
        },
      );
      const [event] = await store.runs.events(r.requestId, 0);
      expect(event?.body === MB).toBe(true);
      const [outbox] = await store.runs.pendingOutbox(r.requestId);
      expect(outbox?.body === MB).toBe(true);
      expect(same((await store.runs.get(r.requestId))?.result, { text: MB, deep })).toBe(true);
    });

    it('ends a run with hostile text through finish (a queued run cancelled, a dead holder’s run)', async () => {
      const out = await store.runs.enqueue({
        requestId: `req_fuzz_fin_${++n}`,
        userId: 'u',
        agentId: `agt_fuzz_fin_${n}`,
        request: { prompt: '\u0000' },
        now: n,
        maxQueued: 10,
      });
      if ('full' in out) throw new Error('full');
      const ended = await store.runs.finish(out.run.requestId, ['queued'], 'w', 0, (seq) => ({
        event: { seq, type: 'run.completed\u0000', time: 1, body: '\ud800\u0000' },
        end: { status: 'cancelled', result: { why: '\udfff\u0000' }, finishedAt: 1, release: true },
      }));
      expect(ended?.result).toEqual({ why: '\udfff\u0000' });
      expect((await store.runs.events(out.run.requestId, 0)).map((e) => [e.type, e.body])).toEqual([
        ['run.completed\u0000', '\ud800\u0000'],
      ]);
    });

    it('keeps run command payloads, targets and outcomes exactly', async () => {
      const commands = new RunCommands(store.sql);
      for (const s of HOSTILE) {
        const sent = await commands.send({
          requestId: `req_cmd_${s}`,
          owner: 'w',
          kind: 'permission',
          targetId: `perm_${s}`,
          payload: { answer: s, [s]: [s] },
          now: 1,
        });
        expect(await commands.get(sent.id)).toMatchObject({
          requestId: `req_cmd_${s}`,
          targetId: `perm_${s}`,
          payload: { answer: s, [s]: [s] },
        });
        const [taken] = await commands.take('w');
        expect(taken?.id).toBe(sent.id);
        expect(await commands.settle(sent.id, { status: 200, body: { said: s } }, 2)).toBe(true);
        expect((await commands.get(sent.id))?.outcome).toEqual({ status: 200, body: { said: s } });
        const other = await commands.send({ ...sent, targetId: s, payload: {}, now: 3 });
        expect(await commands.withdraw(other.id, { status: 409, body: { message: s } }, 4)).toBe(true);
        expect((await commands.get(other.id))?.outcome).toEqual({ status: 409, body: { message: s } });
      }
    });

    it('keeps remote agents’ names, providers and versions, presence sessions and seen webhook ids exactly', async () => {
      const presence = sqlAgentPresence(store.sql, { instanceId: 'i\u0000', staleAfterMs: 1e12 });
      for (const [i, s] of HOSTILE.entries()) {
        const agentId = `ra_fuzz_${i}${s}`;
        const record = {
          agentId,
          name: `name ${i} ${s}`,
          credentialHash: 'h',
          enrolledAt: i,
          provider: `p${s}`,
          version: `v${s}`,
        };
        await store.credentials.put(record);
        expect(await store.credentials.get(agentId)).toEqual(record);
        expect(await store.credentials.update!(agentId, (r) => ({ ...r, lastSeen: 5, provider: `q${s}` }))).toEqual({
          ...record,
          lastSeen: 5,
          provider: `q${s}`,
        });
        expect((await store.credentials.list()).find((r) => r.agentId === agentId)?.name).toBe(record.name);
        await presence.open({ agentId, sessionId: `s${s}`, since: 1, lastSeen: 1 });
        expect(await presence.sync([{ agentId, sessionId: `s${s}`, since: 1, lastSeen: 9 }])).toEqual([]);
        await presence.close({ agentId, sessionId: `s${s}`, since: 1, lastSeen: 10 });
        expect((await store.credentials.get(agentId))?.lastSeen).toBe(10);
        expect(await store.seenWebhooks.remember(`msg_${s}`, 1, 100)).toBe(true);
        expect(await store.seenWebhooks.remember(`msg_${s}`, 2, 100)).toBe(false);
      }
    });

    it('notifies with the request id as written', async () => {
      const seen: string[] = [];
      const stop = await store.runs.onNotify('forge_journal', (p) => seen.push(p));
      if (!stop) return;
      try {
        const r = await store.runs.enqueue({
          requestId: 'req_\u0000\ud800',
          userId: 'u',
          agentId: 'agt_notify',
          request: {},
          now: 1,
          maxQueued: 1,
        });
        if ('full' in r) throw new Error('full');
        let claimed = await store.runs.claimNext('w', 100, 1e12);
        while (claimed && claimed.requestId !== 'req_\u0000\ud800')
          claimed = await store.runs.claimNext('w', 100, 1e12);
        expect(claimed?.requestId).toBe('req_\u0000\ud800');
        await store.runs.append('req_\u0000\ud800', 'w', [{ seq: 1, type: 'x', time: 1, body: '{}' }]);
        for (let i = 0; i < 100 && !seen.includes('req_\u0000\ud800'); i++) await new Promise((r) => setTimeout(r, 10));
        expect(seen).toContain('req_\u0000\ud800');
      } finally {
        await stop();
      }
    });
  });
}

fuzz('PGlite', async () => ({ memory: true }));

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  fuzz('PostgreSQL', async () => ({ databaseUrl: await pg.create() }));
});
