import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent } from '@forge/core';
import { openStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, readSse } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

/**
 * "Nothing accepted is lost": the platform runs as a child process (test-support/durable-platform.ts,
 * the real startPlatform with a fast "witness" agent that logs every execution) and is killed with
 * SIGKILL mid-run and mid-webhook-delivery; then every accepted request must have exactly one final
 * status and exactly one is_final webhook, every event must arrive once under one webhook-id, and no
 * run may have executed twice.
 */
const KEY = 'alice-durability-key';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const pg = await testDatabases();
const FINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

const baseEnv = (data: string) => ({
  FORGE_API_KEYS: `alice:${KEY}`,
  FORGE_DATA_DIR: data,
  FORGE_PORT: '0',
  FORGE_WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
  FORGE_RATE_LIMIT: '1000000',
  FORGE_MAX_AGENTS: '1000',
  FORGE_MAX_QUEUED: '1000',
  FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
});

async function within<T>(ms: number, what: string, work: Promise<T>, log = () => ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms\n${log()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What every accepted request must satisfy once the dust has settled. */
async function checkEveryRequest(
  platform: PlatformProcess,
  accepted: Array<{ agentId: string; requestId: string }>,
  receiver: WebhookReceiver,
  executionsLog: string,
): Promise<Map<string, { status: string; code?: string }>> {
  const call = apiClient(platform.url, KEY);
  const executions = (await readFile(executionsLog, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]!);
  const executedTimes = new Map<string, number>();
  for (const id of executions) executedTimes.set(id, (executedTimes.get(id) ?? 0) + 1);
  const byRequest = new Map<string, ReceivedWebhook[]>();
  for (const w of receiver.received)
    byRequest.set(w.payload.request_id, [...(byRequest.get(w.payload.request_id) ?? []), w]);
  const outcome = new Map<string, { status: string; code?: string }>();
  for (const { agentId, requestId } of accepted) {
    const run = (await call('GET', `/api/v1/agents/${agentId}/runs/${requestId}`)).json;
    // Exactly one final status.
    expect(FINAL.has(run.status), `${requestId} is ${run.status}`).toBe(true);
    outcome.set(requestId, { status: run.status, ...(run.error ? { code: run.error.code } : {}) });
    // No run executed twice.
    expect(executedTimes.get(requestId) ?? 0, `${requestId} executions`).toBeLessThanOrEqual(1);
    if (run.status === 'completed') expect(executedTimes.get(requestId)).toBe(1);
    // Every event delivered, in order, once per seq (so never under two webhook-ids), one is_final.
    const hooks = byRequest.get(requestId) ?? [];
    expect(
      hooks.map((w) => w.payload.seq),
      `${requestId} webhook seqs`,
    ).toEqual(Array.from({ length: run.event_count }, (_, i) => i + 1));
    expect(new Set(hooks.map((w) => w.id)).size).toBe(hooks.length);
    expect(hooks.filter((w) => w.payload.is_final)).toHaveLength(1);
    const final = hooks.at(-1)!.payload.event as Extract<AgentEvent, { type: 'run.completed' }>;
    expect(final).toMatchObject({ type: 'run.completed', result: { status: run.status } });
  }
  return outcome;
}

describe('kill -9 on the embedded store (PGlite)', () => {
  it('loses nothing accepted: mid-run and mid-delivery kills end in one final status and one final webhook each', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-durable-'));
    let hanging = true;
    // Deliveries hang until the kill, so the outbox holds unsettled rows (one in flight per request).
    const receiver = await startWebhookReceiver({ secret: SECRET, behaviour: () => (hanging ? 'hang' : undefined) });
    const env = { ...baseEnv(data), FORGE_TEST_RUN_EVENTS: '8', FORGE_TEST_EVENT_DELAY_MS: '40' };
    let platform: PlatformProcess | undefined;
    try {
      platform = await startPlatformProcess(env);
      let call = apiClient(platform.url, KEY);
      const agents: string[] = [];
      for (let i = 0; i < 3; i++) agents.push((await call('POST', '/api/v1/agents', { body: {} })).json.agent_id);
      const accepted: Array<{ agentId: string; requestId: string }> = [];
      for (let i = 0; i < 12; i++) {
        const agentId = agents[i % 3]!;
        const res = await call('POST', `/api/v1/agents/${agentId}/messages`, {
          // The first message is a long run, to be mid-way when the platform is killed.
          body: {
            content: `message ${i}${i === 0 ? ' delay=2000' : ''}`,
            webhook_url: receiver.url,
            webhook_secret: SECRET,
          },
        });
        expect(res.status).toBe(202);
        accepted.push({ agentId, requestId: res.json.request_id });
      }
      const statuses = async () => {
        const all = await Promise.all(
          agents.map(async (a) => (await call('GET', `/api/v1/agents/${a}/runs?limit=100`)).json.runs),
        );
        return all.flat() as Array<{ request_id: string; status: string; event_count: number }>;
      };
      // Some runs done, some mid-run (events journaled), some still queued.
      let running: string[] = [];
      const long = accepted[0]!.requestId;
      await until(async () => {
        const s = await statuses();
        running = s.filter((r) => r.status === 'running').map((r) => r.request_id);
        const longRun = s.find((r) => r.request_id === long)!;
        return s.filter((r) => r.status === 'completed').length >= 3 && longRun.event_count >= 2;
      }, 'runs under way');
      await platform.kill9();
      expect(receiver.received).toEqual([]);

      hanging = false;
      platform = await startPlatformProcess(env);
      call = apiClient(platform.url, KEY);
      const log = platform.log;
      await within(90_000, 'every final webhook', Promise.all(accepted.map((a) => receiver.final(a.requestId))), log);
      // Resumed deliveries may still be settling; wait for the last run's journal to be whole, then check.
      const outcome = await checkEveryRequest(platform, accepted, receiver, env.FORGE_TEST_EXECUTIONS_LOG);
      // The long run was mid-way: it ended PLATFORM_RESTARTED (retryable). Any other run either
      // completed or was also running at the kill; the queued ones ran after the restart.
      const restarted = (await call('GET', `/api/v1/agents/${accepted[0]!.agentId}/runs/${long}`)).json;
      expect(restarted).toMatchObject({ status: 'failed', error: { code: 'PLATFORM_RESTARTED', retryable: true } });
      for (const [id, o] of outcome)
        if (o.status !== 'completed') {
          expect(o).toEqual({ status: 'failed', code: 'PLATFORM_RESTARTED' });
          expect(running).toContain(id);
        }
      // Its events replay whole over SSE from the journal, the final one after the last it journaled.
      const one = accepted[0]!;
      const res = await fetch(`${platform.url}/api/v1/agents/${one.agentId}/events?request_id=${one.requestId}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      const replay = (await readSse(res)) as AgentEvent[];
      expect(replay.map((e) => e.seq)).toEqual(replay.map((_, i) => i + 1));
      expect(replay.at(-1)).toMatchObject({ type: 'run.completed', result: { error: { code: 'PLATFORM_RESTARTED' } } });
      await platform.stop();
    } finally {
      await platform?.kill9();
      await receiver.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);
});

describe.skipIf(!pg.url)(`two replicas on one PostgreSQL${pg.url ? '' : ` (skipped: ${pg.reason})`}`, () => {
  afterAll(() => pg.dropAll());

  it('claims each of 200 queued runs once; when one replica is killed halfway the other takes over its leases', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-replicas-'));
    const databaseUrl = await pg.create();
    const receiver = await startWebhookReceiver({ secret: SECRET });
    const env = {
      ...baseEnv(data),
      FORGE_DATABASE_URL: databaseUrl,
      FORGE_LEASE_MS: '2000',
      FORGE_TEST_RUN_EVENTS: '4',
      FORGE_TEST_EVENT_DELAY_MS: '5',
    };
    const store = await openStore({ databaseUrl });
    let r1: PlatformProcess | undefined;
    let r2: PlatformProcess | undefined;
    try {
      [r1, r2] = await Promise.all([startPlatformProcess(env), startPlatformProcess(env)]);
      const calls = [apiClient(r1.url, KEY), apiClient(r2.url, KEY)];
      const agents: string[] = [];
      for (let i = 0; i < 20; i++) agents.push((await calls[0]!('POST', '/api/v1/agents', { body: {} })).json.agent_id);
      const accepted: Array<{ agentId: string; requestId: string }> = [];
      for (let i = 0; i < 200; i++) {
        const agentId = agents[i % 20]!;
        const res = await calls[i % 2]!('POST', `/api/v1/agents/${agentId}/messages`, {
          body: { content: `m${i}`, webhook_url: receiver.url, webhook_secret: SECRET },
        });
        expect(res.status).toBe(202);
        accepted.push({ agentId, requestId: res.json.request_id });
      }
      const finished = async () =>
        Number(
          (
            await store.sql.query<{ n: number }>(
              `select count(*)::int as n from forge_runs where finished_at is not null`,
            )
          )[0]!.n,
        );
      await until(async () => (await finished()) >= 100, 'half the runs', 90_000);
      const heldByR1 = await store.sql.query<{ request_id: string; status: string }>(
        'select request_id, status from forge_runs where owner = $1',
        [r1.instance],
      );
      await r1.kill9();
      // Any replica answers for any run: r2 reads one that r1 ran.
      const ranOnR1 = heldByR1[0];
      if (ranOnR1) {
        const a = accepted.find((x) => x.requestId === ranOnR1.request_id)!;
        expect((await calls[1]!('GET', `/api/v1/agents/${a.agentId}/runs/${a.requestId}`)).status).toBe(200);
      }
      await within(
        120_000,
        'every final webhook',
        Promise.all(accepted.map((a) => receiver.final(a.requestId))),
        r2.log,
      );
      const outcome = await checkEveryRequest(r2, accepted, receiver, env.FORGE_TEST_EXECUTIONS_LOG);
      const restarted = [...outcome.values()].filter((o) => o.code === 'PLATFORM_RESTARTED').length;
      const completed = [...outcome.values()].filter((o) => o.status === 'completed').length;
      expect(restarted + completed).toBe(200);
      // Both replicas did work, and r2 finished what was left.
      const executions = (await readFile(env.FORGE_TEST_EXECUTIONS_LOG, 'utf8')).split('\n').filter(Boolean);
      expect(new Set(executions).size).toBe(executions.length);
      // The last final webhook can reach the receiver a moment before r2 settles its outbox row and
      // lets go of the run: nothing is left held once it has.
      const held = async () =>
        (await store.sql.query('select 1 from forge_runs where owner is not null or finished_at is null')).length;
      await until(async () => (await held()) === 0, 'every run finished and released', 30_000);
      await r2.stop();
    } finally {
      await r1?.kill9();
      await r2?.kill9();
      await store.close();
      await receiver.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 240_000);
});
