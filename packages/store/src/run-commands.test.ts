import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type ForgeStore, type OpenStoreOptions } from './open-store.js';
import { RunCommands, type RunCommandOutcome } from './run-commands.js';
import { testDatabases } from './testing/index.js';

const pg = await testDatabases();

const ok: RunCommandOutcome = { status: 200, body: { request_id: 'req_1' } };
const gone: RunCommandOutcome = {
  status: 404,
  body: { error: { code: 'PERMISSION_NOT_FOUND', message: 'No run is waiting on permission p1' } },
};

/** Resolves with what `subscribe` delivers first. */
function next<T>(subscribe: (deliver: (v: T) => void) => Promise<unknown>): {
  ready: Promise<unknown>;
  value: Promise<T>;
} {
  let deliver!: (v: T) => void;
  const value = new Promise<T>((resolve) => (deliver = resolve));
  return { ready: subscribe(deliver), value };
}

/**
 * The same suite on both engines. `open` gives two stores on one database: on PostgreSQL two
 * connection pools, as two replicas have; on PGlite the same one (it serves one process).
 */
function contract(name: string, open: () => Promise<{ a: ForgeStore; b: ForgeStore }>) {
  describe(`run commands on ${name}`, () => {
    let a: RunCommands;
    let b: RunCommands;
    let stores: { a: ForgeStore; b: ForgeStore };
    let n = 0;
    const owner = () => `inst_${name}_${++n}`;
    const send = (commands: RunCommands, to: string, targetId = 'p1') =>
      commands.send({
        requestId: `req_${name}_${++n}`,
        owner: to,
        kind: 'permission',
        targetId,
        payload: { user_id: 'u', agent_id: 'agt_1', decision: 'allow' },
        now: 1_000 + n,
      });

    beforeAll(async () => {
      stores = await open();
      a = new RunCommands(stores.a.sql);
      b = new RunCommands(stores.b.sql);
    });
    afterAll(async () => {
      await stores?.a.close();
      if (stores?.b !== stores?.a) await stores?.b.close();
    });

    it('goes pending → applying → done once: only its owner takes it, the sender reads the outcome', async () => {
      const mine = owner();
      const sent = await send(a, mine);
      expect(sent).toMatchObject({ state: 'pending', kind: 'permission', targetId: 'p1', owner: mine });
      expect(sent.payload).toEqual({ user_id: 'u', agent_id: 'agt_1', decision: 'allow' });
      expect(await b.take(owner())).toEqual([]);
      const [taken, ...more] = await b.take(mine);
      expect(more).toEqual([]);
      expect(taken).toMatchObject({ id: sent.id, state: 'applying' });
      expect(await b.take(mine)).toEqual([]);
      // Taken: the sender can no longer withdraw it, it waits for the outcome.
      expect(await a.withdraw(sent.id, gone, 3_000)).toBe(false);
      expect(await b.settle(sent.id, ok, 2_000)).toBe(true);
      expect(await b.settle(sent.id, gone, 2_001)).toBe(false);
      expect(await a.get(sent.id)).toMatchObject({ state: 'done', outcome: ok, settledAt: 2_000 });
      await a.remove(sent.id);
      expect(await a.get(sent.id)).toBeUndefined();
    });

    it('sends to the instance running the agent’s run, found in the same statement; nothing when none other runs it', async () => {
      const [runner, me] = [owner(), owner()];
      const agentId = `agt_${name}_${++n}`;
      const message = (except: string) =>
        b.sendToRunOf({
          userId: 'u',
          agentId,
          except,
          kind: 'permission',
          targetId: 'p1',
          payload: { decision: 'allow' },
          now: 1_000,
        });
      // Nothing running: nothing sent.
      expect(await message(me)).toBeUndefined();
      const queued = await stores.a.runs.enqueue({
        requestId: `req_${name}_${++n}`,
        userId: 'u',
        agentId,
        request: {},
        now: 1,
        maxQueued: 10,
      });
      if ('full' in queued) throw new Error('full');
      expect(await message(me)).toBeUndefined();
      for (;;) {
        const claimed = await stores.a.runs.claimNext(runner, Date.now(), Date.now() + 60_000);
        if (!claimed || claimed.requestId === queued.run.requestId) break;
      }
      const sent = await message(me);
      expect(sent).toMatchObject({ requestId: queued.run.requestId, owner: runner, state: 'pending', targetId: 'p1' });
      expect((await a.take(runner)).map((c) => c.id)).toEqual([sent!.id]);
      // Running on the sender itself: not relayed.
      expect(await message(runner)).toBeUndefined();
    });

    it('lets the sender withdraw a command nobody took, which is then never taken', async () => {
      const mine = owner();
      const sent = await send(a, mine);
      expect(await a.withdraw(sent.id, gone, 2_000)).toBe(true);
      expect(await a.withdraw(sent.id, gone, 2_001)).toBe(false);
      expect(await b.take(mine)).toEqual([]);
      expect(await b.settle(sent.id, ok, 2_002)).toBe(false);
      expect(await a.get(sent.id)).toMatchObject({ state: 'refused', outcome: gone });
    });

    it('hands an owner its commands oldest first, each to one of several racing takers', async () => {
      const mine = owner();
      const sent = [];
      for (let i = 0; i < 20; i++) sent.push((await send(a, mine, `p${i}`)).id);
      const first = await b.take(mine, 5);
      expect(first.map((c) => c.id)).toEqual(sent.slice(0, 5));
      const raced = await Promise.all([a.take(mine, 4), b.take(mine, 4), a.take(mine, 4), b.take(mine, 4)]);
      const ids = [...first, ...raced.flat()].map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort((x, y) => x - y)).toEqual(sent.slice(0, ids.length));
    });

    it('wakes the owner on send and the sender on settle (LISTEN/NOTIFY, from another connection)', async () => {
      const mine = owner();
      const sentTo = next<void>((deliver) => b.onSent(mine, () => deliver()));
      const unsubscribe = await sentTo.ready;
      expect(unsubscribe).toBeTypeOf('function');
      const wrongOwner = owner();
      let heardWrong = 0;
      const stopWrong = await b.onSent(wrongOwner, () => heardWrong++);
      const sent = await send(a, mine);
      await sentTo.value;
      const settled = next<number>((deliver) =>
        a.onSettled((id) => {
          if (id === sent.id) deliver(id);
        }),
      );
      const stopSettled = (await settled.ready) as () => Promise<void>;
      await b.take(mine);
      await b.settle(sent.id, ok, 2_000);
      expect(await settled.value).toBe(sent.id);
      await (unsubscribe as () => Promise<void>)();
      await stopSettled();
      await stopWrong!();
      expect(heardWrong).toBe(0);
    });

    it('sweeps commands by age, whatever their state', async () => {
      const mine = owner();
      const old = await send(a, mine);
      await a.sql.query('update forge_run_commands set created_at = 10 where id = $1', [old.id]);
      const fresh = await send(a, mine);
      expect(await a.sweep(100)).toBeGreaterThanOrEqual(1);
      expect(await a.get(old.id)).toBeUndefined();
      expect(await a.get(fresh.id)).toBeDefined();
    });
  });
}

contract('PGlite', async () => {
  const store = await openStore({ memory: true });
  return { a: store, b: store };
});

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  contract('PostgreSQL', async () => {
    const options: OpenStoreOptions = { databaseUrl: await pg.create() };
    return { a: await openStore(options), b: await openStore(options) };
  });
});
