import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceScript, sampleScript, scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { openStore, RunCommands, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from './backends/local-backend.js';
import { RunManager } from './run-manager.js';
import { ALICE_KEY, startApiHarness, testStore, type ApiHarness } from './test-support/api-harness.js';

/**
 * Permission replies and question answers work whichever replica receives them: two platforms
 * (real HTTP servers, real RunManagers) on one database; replica B never runs anything itself
 * (maxRunning 0), so every run executes on A and every reply sent to B is relayed to A through
 * the store's command table. B must answer exactly what A answers.
 */
const pg = await testDatabases();

/** The conformance scripts, and a question followed by a second permission (so the run still lives after the answer). */
function stepsFor(prompt: string): ScriptStep[] {
  if (prompt === 'permission') return conformanceScript('permission');
  if (prompt === 'question then permission') {
    const [started, ...rest] = sampleScript();
    const question = conformanceScript('question').slice(1, 3);
    return [
      started!,
      ...question,
      { type: 'permission.requested', id: 'perm_2', tool: 'Bash', input: { command: 'pwd' } },
      { awaitPermission: 'perm_2' },
      ...rest,
    ];
  }
  if (prompt === 'wait') return [sampleScript()[0]!, { hang: true }];
  return sampleScript();
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Stores = () => Promise<{ a: ForgeStore; b: ForgeStore; close(): Promise<void> }>;

/**
 * With LISTEN, the heartbeat and the reply poll are set to an hour, so only NOTIFY can carry a reply
 * there and its outcome back; without LISTEN, polling must do it alone.
 */
const NOTIFY_ONLY = { pollMs: 3_600_000, followPollMs: 3_600_000 };
const POLL_ONLY = { pollMs: 50, followPollMs: 50 };

function replicas(name: string, stores: Stores, timing: typeof NOTIFY_ONLY) {
  describe(`replies through another replica (${name})`, () => {
    let a: ApiHarness;
    let b: ApiHarness;
    let shared: string;
    let close: () => Promise<void>;
    let agentId: string;

    beforeAll(async () => {
      shared = await mkdtemp(join(tmpdir(), 'forge-replica-replies-'));
      const s = await stores();
      close = s.close;
      const providers = {
        scripted: scriptedAgent({ steps: (request) => stepsFor(request.prompt), capabilities: { steering: true } }),
      };
      // Both replicas see the same agents (the local backend's truth is its directory tree).
      const backend = (registry: Parameters<typeof localBackend>[0]['registry']) =>
        localBackend({ dataDir: shared, registry });
      a = await startApiHarness({ providers, backend, store: s.a, runManager: { ...timing, replyTimeoutMs: 10_000 } });
      b = await startApiHarness({
        providers,
        backend,
        store: s.b,
        runManager: { ...timing, maxRunning: 0, replyTimeoutMs: 10_000 },
      });
      agentId = (await a.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } })).json.agent_id;
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await close?.();
      if (shared) await rm(shared, { recursive: true, force: true });
    });

    /** The same call through both replicas: B (relayed) first, then A (where the run is). */
    const both = async (path: string, body: unknown) => {
      const viaB = await b.call('POST', path, { body });
      const viaA = await a.call('POST', path, { body });
      return { viaA, viaB };
    };

    const runOf = async (requestId: string) =>
      (await b.call('GET', `/api/v1/agents/${agentId}/runs/${requestId}`)).json as { status: string };

    it('relays a steering message to the replica running the run, and answers an ended run alike', async () => {
      const sent = await a.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'wait' } });
      const rid = sent.json.request_id as string;
      await until(() => a.runs.local(rid) !== undefined, 'the run to start on A');
      const S = `/api/v1/agents/${agentId}/runs/${rid}/steer`;
      const steered = await b.call('POST', S, { body: { text: 'and the tests too' } });
      expect(steered.status).toBe(200);
      expect(steered.json).toEqual({ agent_id: agentId, request_id: rid, steered: true });
      await until(
        async () => (await a.runs.store.runs.events(rid, 0)).some((e) => e.body.includes('steered: and the tests too')),
        'the steering message in the journal',
      );
      await b.call('POST', `/api/v1/agents/${agentId}/interrupt`);
      await until(async () => (await runOf(rid)).status === 'cancelled', 'the run to end');
      const late = await both(S, { text: 'too late' });
      expect(late.viaB.status).toBe(409);
      expect(late.viaB.json).toEqual(late.viaA.json);
    });

    it('delivers a permission reply sent to the replica that does not run it, and answers misses alike', async () => {
      const sent = await a.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'permission' } });
      expect(sent.status).toBe(202);
      const rid = sent.json.request_id as string;
      await until(() => a.runs.local(rid)?.pendingPermissions.has('perm_1') === true, 'the permission request');
      expect(b.runs.local(rid)).toBeUndefined();
      const P = `/api/v1/agents/${agentId}/permissions`;

      const unknown = await both(`${P}/perm_nope`, { decision: 'allow' });
      expect(unknown.viaB.status).toBe(404);
      expect(unknown.viaB.json).toEqual(unknown.viaA.json);
      expect(unknown.viaB.json.error.code).toBe('PERMISSION_NOT_FOUND');

      const invalid = await both(`${P}/perm_1`, { decision: 'perhaps' });
      expect(invalid.viaB.status).toBe(400);
      expect(invalid.viaB.json).toEqual(invalid.viaA.json);

      const allowed = await b.call('POST', `${P}/perm_1`, { body: { decision: 'allow', message: 'go ahead' } });
      expect(allowed.status).toBe(200);
      expect(allowed.json).toEqual({ agent_id: agentId, request_id: rid, permission_id: 'perm_1', decision: 'allow' });

      const again = await both(`${P}/perm_1`, { decision: 'deny' });
      expect(again.viaB.status).toBe(404);
      expect(again.viaB.json).toEqual(again.viaA.json);

      await until(async () => (await runOf(rid)).status === 'completed', 'the run completing');
      const events = await b.call('GET', `/api/v1/agents/${agentId}/events?request_id=${rid}`);
      expect(events.text).toContain('permission allow');
      // Every relayed reply removed its command once answered.
      expect(await a.runs.store.sql.query('select id from forge_run_commands where request_id = $1', [rid])).toEqual(
        [],
      );
    });

    it('delivers a question answer through the other replica: bad answers, misses and repeats answered alike', async () => {
      const sent = await a.call('POST', `/api/v1/agents/${agentId}/messages`, {
        body: { content: 'question then permission' },
      });
      const rid = sent.json.request_id as string;
      await until(() => a.runs.local(rid)?.pendingQuestions.has('q_1') === true, 'the question');
      const Q = `/api/v1/agents/${agentId}/questions`;

      // Two answers to one question: core refuses it (INVALID_ANSWER, with details), here and there alike.
      const misfit = await both(`${Q}/q_1`, { answers: [['Blue'], ['Red']] });
      expect(misfit.viaB.status).toBe(400);
      expect(misfit.viaB.json.error.code).toBe('INVALID_ANSWER');
      expect(misfit.viaB.json).toEqual(misfit.viaA.json);

      const unknown = await both(`${Q}/q_nope`, { answers: [['Blue']] });
      expect(unknown.viaB.status).toBe(404);
      expect(unknown.viaB.json.error.code).toBe('QUESTION_NOT_FOUND');
      expect(unknown.viaB.json).toEqual(unknown.viaA.json);

      const answered = await b.call('POST', `${Q}/q_1`, { body: { answers: [['Blue']] } });
      expect(answered.status).toBe(200);
      expect(answered.json).toEqual({ agent_id: agentId, request_id: rid, question_id: 'q_1', answers: [['Blue']] });

      // The run lives on (it waits on perm_2): a second answer is a conflict on both replicas.
      await until(() => a.runs.local(rid)?.pendingPermissions.has('perm_2') === true, 'the second permission');
      const repeat = await both(`${Q}/q_1`, { answers: [['Red']] });
      expect(repeat.viaB.status).toBe(409);
      expect(repeat.viaB.json.error.code).toBe('QUESTION_ANSWERED');
      expect(repeat.viaB.json).toEqual(repeat.viaA.json);

      expect(
        (await b.call('POST', `/api/v1/agents/${agentId}/permissions/perm_2`, { body: { decision: 'deny' } })).status,
      ).toBe(200);
      await until(async () => (await runOf(rid)).status === 'completed', 'the run completing');
      const events = await b.call('GET', `/api/v1/agents/${agentId}/events?request_id=${rid}`);
      expect(events.text).toContain('"answers":[["Blue"]]');
      expect(events.text).toContain('permission deny');

      // Once the run is over, both answer the 404 of a question nobody waits on.
      const late = await both(`${Q}/q_1`, { answers: [['Blue']] });
      expect(late.viaB.status).toBe(404);
      expect(late.viaB.json).toEqual(late.viaA.json);
    });

    it('runs a message sent to the replica that runs nothing, streams it there live, and interrupts it from there', async () => {
      // Sent to B, which cannot run it: A claims it (notified, or on its poll).
      const sent = await b.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'permission' } });
      expect(sent.status).toBe(202);
      const rid = sent.json.request_id as string;
      // B follows it from the journal as A writes it: the permission request arrives while the run waits on it.
      const stop = new AbortController();
      const seen: string[] = [];
      const following = (async () => {
        for await (const e of b.runs.follow(rid, 0, stop.signal)) seen.push(e.type);
      })();
      try {
        await until(() => seen.includes('permission.requested'), 'the permission request, followed on B');
        expect(a.runs.local(rid)).toBeDefined();
        // Interrupted through B: A is told at once (or at its heartbeat) and the run ends cancelled.
        const stopped = await b.call('POST', `/api/v1/agents/${agentId}/interrupt`, { body: {} });
        expect(stopped.status).toBeLessThan(300);
        await until(async () => (await runOf(rid)).status === 'cancelled', 'the run cancelled');
        await following;
        expect(seen.at(-1)).toBe('run.completed');
        expect(seen.filter((t) => t === 'run.completed')).toHaveLength(1);
      } finally {
        stop.abort();
      }
    });
  });
}

replicas(
  'PGlite, one store shared by two managers',
  async () => {
    const store = await testStore();
    return { a: store, b: store, close: async () => {} };
  },
  NOTIFY_ONLY,
);

replicas(
  'PGlite without LISTEN: the owner finds commands on its heartbeat, the sender polls for the outcome',
  async () => {
    const shared = await testStore();
    const store = { ...shared, sql: { ...shared.sql, listen: undefined } };
    return { a: store, b: store, close: async () => {} };
  },
  POLL_ONLY,
);

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  replicas(
    'PostgreSQL, two connection pools',
    async () => {
      const url = await pg.create();
      const a = await openStore({ databaseUrl: url });
      const b = await openStore({ databaseUrl: url });
      return {
        a,
        b,
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    },
    NOTIFY_ONLY,
  );
});

describe('a reply for a run on an instance that does not take it', () => {
  /** A run of `agentId` held by "ghost", an instance that never applies anything. */
  async function ghostHolds(store: ForgeStore, userId: string, agentId: string, leaseMs: number) {
    const queued = await store.runs.enqueue({
      requestId: `req_${agentId}_${Math.random().toString(36).slice(2, 8)}`,
      userId,
      agentId,
      request: { prompt: 'x' },
      now: Date.now(),
      maxQueued: 10,
    });
    if ('full' in queued) throw new Error('full');
    for (;;) {
      const claimed = await store.runs.claimNext('ghost', Date.now(), Date.now() + leaseMs);
      if (!claimed || claimed.requestId === queued.run.requestId) break;
    }
    const commands = async () =>
      store.sql.query('select state from forge_run_commands where request_id = $1', [queued.run.requestId]);
    return { requestId: queued.run.requestId, commands };
  }

  /** A ghost's run, and a manager that runs nothing. */
  async function ghostRun(leaseMs: number, replyTimeoutMs = 300) {
    const store = await testStore();
    const runs = await RunManager.create({
      store,
      agents: async () => undefined,
      maxRunning: 0,
      pollMs: 50,
      replyTimeoutMs,
    });
    const agentId = `agt_ghost${Math.random().toString(36).slice(2, 8)}`;
    return { store, runs, agentId, ...(await ghostHolds(store, 'u', agentId, leaseMs)) };
  }

  it('withdraws it after the reply timeout: 504 REPLY_NOT_DELIVERED (retry), never applied later', async () => {
    const { runs, agentId, commands } = await ghostRun(600_000);
    await expect(runs.respond('u', agentId, 'perm_1', 'allow')).rejects.toMatchObject({
      status: 504,
      code: 'REPLY_NOT_DELIVERED',
      headers: { 'retry-after': '1' },
      details: { retryable: true },
    });
    expect(await commands()).toEqual([]);
    await runs.close();
  });

  it('answers the owner’s 404 when the run ends, or its owner’s lease lapses, before the reply is taken', async () => {
    // The reply must outwait the test's own steps (a loaded machine took over 300 ms between them), so the 404
    // it gets is the end of the run's doing, not the reply timeout's.
    const ended = await ghostRun(600_000, 15_000);
    const waiting = ended.runs.answer('u', ended.agentId, 'q_1', [['Blue']]);
    // The ghost's run ends (its lease taken over and ended by someone) while the reply waits.
    await until(async () => (await ended.commands()).length === 1, 'the command');
    await ended.store.sql.query(
      `update forge_runs set status = 'failed', owner = null, lease_until = null, finished_at = 1 where request_id = $1`,
      [ended.requestId],
    );
    await expect(waiting).rejects.toMatchObject({ status: 404, code: 'QUESTION_NOT_FOUND' });
    expect(await ended.commands()).toEqual([]);
    await ended.runs.close();

    const dead = await ghostRun(-1);
    await expect(dead.runs.respond('u', dead.agentId, 'perm_1', 'allow')).rejects.toMatchObject({
      status: 404,
      code: 'PERMISSION_NOT_FOUND',
    });
    await dead.runs.close();
  });

  it('answers 504 REPLY_NOT_CONFIRMED when the owner took it but never said how it went', async () => {
    const { store, runs, agentId, commands } = await ghostRun(600_000);
    const waiting = runs.respond('u', agentId, 'perm_1', 'allow');
    await until(async () => (await commands()).length === 1, 'the command');
    // The ghost takes it (and then, say, dies before settling it).
    expect(await new RunCommands(store.sql).take('ghost')).toHaveLength(1);
    await expect(waiting).rejects.toMatchObject({ status: 504, code: 'REPLY_NOT_CONFIRMED' });
    expect(await commands()).toEqual([]);
    await runs.close();
  });

  it('withdraws it when the caller stops waiting (the client went away)', async () => {
    const { runs, agentId, commands } = await ghostRun(600_000);
    const gone = new AbortController();
    const waiting = runs.respond('u', agentId, 'perm_1', 'allow', undefined, gone.signal);
    await until(async () => (await commands()).length === 1, 'the command');
    gone.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED_REQUEST' });
    expect(await commands()).toEqual([]);
    await runs.close();
  });

  it('withdraws it when the HTTP client disconnects while it waits', async () => {
    const h = await startApiHarness({ runManager: { maxRunning: 0, replyTimeoutMs: 600_000 } });
    try {
      const agentId = (await h.call('POST', '/api/v1/agents', { body: {} })).json.agent_id as string;
      const { commands } = await ghostHolds(await testStore(), 'alice', agentId, 600_000);
      const client = new AbortController();
      const reply = fetch(`${h.url}/api/v1/agents/${agentId}/permissions/perm_1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'allow' }),
        signal: client.signal,
      });
      await until(async () => (await commands()).length === 1, 'the command');
      client.abort();
      await expect(reply).rejects.toThrow();
      await until(async () => (await commands()).length === 0, 'the command withdrawn and removed');
    } finally {
      await h.close();
    }
  });
});
