import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCodeAgent, defaultCapabilities, type AgentEvent, type AgentResult, type CodeAgent } from '@forge/core';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { serveAgent, type AgentServer } from '@forge/transport-grpc';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';
import { startWebhookReceiver } from './webhook-receiver.js';

/**
 * Rolling restarts lose no run (issue 29 item 8). Two platform processes (test-support/durable-platform.ts, the
 * real startPlatform) on one PostgreSQL; their k8s backend's every agent is one real gRPC agent server in this
 * process (test-support/shared-pod.ts), playing a long turn that waits for the test half-way. The replica
 * running it gets SIGTERM: it hands the run over and exits; the other re-attaches from the last journaled seq.
 */
const KEY = 'alice-rolling-restart-key';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
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

/** The pod's agent: six events, then it waits for `release()`, then six more and the end. */
function longTurnAgent() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const results: AgentResult[] = [];
  let halfway!: () => void;
  const reached = new Promise<void>((resolve) => (halfway = resolve));
  const agent: CodeAgent = createCodeAgent({
    provider: 'scripted',
    declared: defaultCapabilities({ textDeltas: true }),
    async run(ctx) {
      ctx.emit({ type: 'session.started', sessionId: 'ses_long_turn' });
      for (let i = 0; i < 5; i++) ctx.emit({ type: 'text.delta', text: `before ${i} ` });
      halfway();
      await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      // Core ends a cancelled run cancelled, whatever is returned.
      if (ctx.signal.aborted) return { text: '' };
      for (let i = 0; i < 5; i++) ctx.emit({ type: 'text.delta', text: `after ${i} ` });
      ctx.emit({ type: 'message', text: 'the long turn is done' });
      return { text: 'the long turn is done', turns: 1 };
    },
  });
  const execute = agent.execute.bind(agent);
  agent.execute = ((...args: Parameters<typeof execute>) => {
    const run = execute(...args);
    void run.result.then((r) => results.push(r));
    return run;
  }) as typeof agent.execute;
  return { agent, release, reached, results };
}

describe.skipIf(!pg.url)(`rolling restart${pg.url ? '' : ` (skipped: ${pg.reason})`}`, () => {
  afterAll(() => pg.dropAll());

  it('a SIGTERM’d replica hands its pod run to the other: no gap in seq, no duplicate, one final webhook', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-rolling-'));
    const databaseUrl = await pg.create();
    const pod = longTurnAgent();
    let server: AgentServer | undefined;
    let store: ForgeStore | undefined;
    const receiver = await startWebhookReceiver({ secret: SECRET });
    const procs: PlatformProcess[] = [];
    try {
      server = await serveAgent(pod.agent, { port: 0 });
      const env = {
        FORGE_API_KEYS: `alice:${KEY}`,
        FORGE_DATA_DIR: data,
        FORGE_PORT: '0',
        FORGE_RATE_LIMIT: '1000000',
        FORGE_DATABASE_URL: databaseUrl,
        FORGE_WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
        FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
        FORGE_TEST_POD_URL: server.url,
        FORGE_DRAIN_MS: '20000',
        FORGE_TEST_LOG_LEVEL: 'info',
      };
      procs.push(...(await Promise.all([startPlatformProcess(env), startPlatformProcess(env)])));
      store = await openStore({ databaseUrl });
      const db = store;
      const call = apiClient(procs[0]!.url, KEY);
      const agentId = (await call('POST', '/api/v1/agents', { body: { provider: 'scripted' } })).json
        .agent_id as string;
      const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, {
        body: { content: 'a long turn', webhook_url: receiver.url, webhook_secret: SECRET },
      });
      expect(sent.status, sent.text).toBe(202);
      const rid = sent.json.request_id as string;
      await pod.reached;
      // The first half is journaled by the replica running it.
      await until(async () => (await db.runs.events(rid, 0)).length >= 6, 'the first half journaled');
      const [row] = await db.sql.query<{ owner: string }>('select owner from forge_runs where request_id = $1', [rid]);
      const running = procs.find((p) => p.instance === row!.owner)!;
      const other = procs.find((p) => p !== running)!;

      // SIGTERM: the replica hands the run over and exits while the pod's turn still waits; only then does the
      // turn go on (played into the pod's buffer, or straight to the replica that re-attached by then).
      await running.stop();
      expect(running.child.exitCode, running.log()).toBe(0);
      pod.release();

      const final = await until(async () => {
        const run = (await apiClient(other.url, KEY)('GET', `/api/v1/agents/${agentId}/runs/${rid}`)).json;
        return run.status === 'completed' ? run : undefined;
      }, 'the run completing through the other replica');
      expect(final.result).toMatchObject({ status: 'completed', text: 'the long turn is done' });
      const events = (await db.runs.events(rid, 0)).map((e) => JSON.parse(e.body) as AgentEvent);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      const texts = events.filter((e) => e.type === 'text.delta').map((e) => (e as { text: string }).text);
      expect(texts).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `before ${i} `),
        ...[0, 1, 2, 3, 4].map((i) => `after ${i} `),
      ]);
      // The pod ran it once, to its own end: nothing was cancelled.
      expect(pod.results.map((r) => r.status)).toEqual(['completed']);
      const [after] = await db.sql.query<{ owner: string | null; handed_over_at: number | null }>(
        'select owner, handed_over_at from forge_runs where request_id = $1',
        [rid],
      );
      expect(after!.handed_over_at).toBeNull();

      // Every event reached the webhook under one webhook-id each, in order, with one final.
      const hooks = await receiver.final(rid);
      const bySeq = new Map<number, Set<string>>();
      for (const h of hooks) bySeq.set(h.payload.seq, (bySeq.get(h.payload.seq) ?? new Set()).add(h.id));
      expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(events.map((e) => e.seq));
      for (const ids of bySeq.values()) expect(ids.size).toBe(1);
      expect(hooks.filter((h) => h.payload.is_final)).toHaveLength(1);
      await other.stop();
      expect(other.child.exitCode).toBe(0);
    } finally {
      for (const p of procs) await p.kill9();
      await store?.close();
      await server?.close({ graceful: false });
      await receiver.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 120_000);

  it('a local run finishes within FORGE_DRAIN_MS; one longer than it ends cancelled with one run.completed', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-rolling-local-'));
    const databaseUrl = await pg.create();
    let store: ForgeStore | undefined;
    const env = (drainMs: number) => ({
      FORGE_API_KEYS: `alice:${KEY}`,
      FORGE_DATA_DIR: data,
      FORGE_PORT: '0',
      FORGE_RATE_LIMIT: '1000000',
      FORGE_DATABASE_URL: databaseUrl,
      FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
      FORGE_DRAIN_MS: String(drainMs),
    });
    /** Starts a replica, sends it a run of 8 events `delayMs` apart, SIGTERMs it once the run is going. */
    const stopMidRun = async (drainMs: number, delayMs: number) => {
      const replica = await startPlatformProcess(env(drainMs));
      try {
        const call = apiClient(replica.url, KEY);
        const agentId = (await call('POST', '/api/v1/agents', { body: { provider: 'witness' } })).json.agent_id;
        const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, {
          body: { content: `delay=${delayMs}` },
        });
        expect(sent.status, sent.text).toBe(202);
        const rid = sent.json.request_id as string;
        await until(async () => (await store!.runs.events(rid, 0)).length >= 1, 'the run going');
        await replica.stop();
        expect(replica.child.exitCode, replica.log()).toBe(0);
        return rid;
      } finally {
        await replica.kill9();
      }
    };
    try {
      store = await openStore({ databaseUrl });
      const finished = await stopMidRun(20_000, 100);
      const run = await store.runs.get(finished);
      expect(run).toMatchObject({ status: 'completed' });
      const events = await store.runs.events(finished, 0);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'text.delta')).toHaveLength(8);

      const cut = await stopMidRun(200, 5_000);
      expect(await store.runs.get(cut)).toMatchObject({ status: 'cancelled' });
      const cutEvents = await store.runs.events(cut, 0);
      expect(cutEvents.map((e) => e.seq)).toEqual(cutEvents.map((_, i) => i + 1));
      expect(cutEvents.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    } finally {
      await store?.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 120_000);
});
