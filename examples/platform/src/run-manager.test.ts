import { ValidationError, type AgentEvent, type CodeAgent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { sqlSessionStore, type JournalEvent } from '@forge/store';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from './logger.js';
import { RunManager, type RunManagerOptions } from './run-manager.js';
import { webhookIdOf } from './run-events.js';
import { testStore } from './test-support/api-harness.js';
import type { WebhookDispatcherPort } from './webhook-port.js';

const chatty = (n: number) =>
  scriptedAgent({ steps: Array.from({ length: n }, (_, i) => ({ type: 'text.delta' as const, text: `${i} ` })) });
const hang = () => scriptedAgent({ steps: [{ type: 'text.delta', text: 'working' }, { hang: true }] });

let agentNo = 0;
const newAgent = () => `agt_rm${++agentNo}`;

/** A manager whose agents are a fixed map (agent id → CodeAgent). */
async function manager(agents: Record<string, CodeAgent>, extra: Partial<RunManagerOptions> = {}) {
  const logger = memoryLogger();
  const runs = await RunManager.create({
    store: await testStore(),
    agents: async (_user, agentId) => agents[agentId],
    logger,
    pollMs: 50,
    ...extra,
  });
  return { runs, logger };
}

/** Webhook delivery that acknowledges every event at once, recording what it was given. */
function acknowledgingWebhooks() {
  const sent: Array<{ requestId: string; seq: number; webhookId?: string; final: boolean }> = [];
  const port: WebhookDispatcherPort = {
    async open(o) {
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      return {
        send(event, options) {
          sent.push({
            requestId: o.requestId,
            seq: event.seq,
            ...(options?.webhookId ? { webhookId: options.webhookId } : {}),
            final: event.type === 'run.completed',
          });
          options?.onSettled?.('delivered');
          if (event.type === 'run.completed') finish();
        },
        done,
        stop: () => finish(),
      };
    },
    close: async () => {},
  };
  return { port, sent };
}

const drain = async (it: AsyncIterable<JournalEvent>) => {
  const out: AgentEvent[] = [];
  for await (const e of it) out.push(JSON.parse(e.body) as AgentEvent);
  return out;
};

describe('RunManager (durable queue, journal, outbox)', () => {
  it('answers running for a free agent and queued behind a busy one, and runs each agent’s messages in order', async () => {
    const a = newAgent();
    const order: string[] = [];
    const agent = scriptedAgent({
      steps: (req) => (order.push(req.prompt), [{ delayMs: 5 }, { type: 'message', text: req.prompt }]),
    });
    const { runs } = await manager({ [a]: agent });
    const first = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'one' } });
    const second = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'two' } });
    const third = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'three' } });
    expect(first.status).toBe('running');
    expect([second.status, second.ahead]).toEqual(['queued', 0]);
    expect([third.status, third.ahead]).toEqual(['queued', 1]);
    const events = await drain(runs.follow(third.run.requestId, 0, AbortSignal.timeout(20_000)));
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed', text: 'three' } });
    expect(order).toEqual(['one', 'two', 'three']);
    const [r1, r2] = await Promise.all([runs.get('u', first.run.requestId), runs.get('u', second.run.requestId)]);
    expect(r1!.finishedAt!).toBeLessThanOrEqual(r2!.startedAt!);
    expect(await runs.get('someone-else', first.run.requestId)).toBeUndefined();
    await runs.close();
  });

  it('journals every event before readers see it: a finished run reads whole, from any seq, with no linger', async () => {
    const a = newAgent();
    const { runs } = await manager({ [a]: chatty(30) });
    const { run } = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'go' } });
    const live = await drain(runs.follow(run.requestId, 0, AbortSignal.timeout(20_000)));
    expect(live.map((e) => e.seq)).toEqual(live.map((_, i) => i + 1));
    await runs.idle();
    const again = await drain(runs.follow(run.requestId, 25, AbortSignal.timeout(20_000)));
    expect(again.map((e) => e.seq)).toEqual(live.slice(25).map((e) => e.seq));
    const stored = await runs.get('u', run.requestId);
    expect(stored).toMatchObject({ status: 'completed', eventCount: live.length, result: { status: 'completed' } });
    await runs.close();
  });

  it('caps each agent’s queue with 429 QUEUE_FULL and Retry-After', async () => {
    const a = newAgent();
    const { runs } = await manager({ [a]: hang() }, { maxQueuedPerAgent: 2 });
    await runs.submit({ userId: 'u', agentId: a, request: { prompt: '1' } });
    await runs.submit({ userId: 'u', agentId: a, request: { prompt: '2' } });
    await runs.submit({ userId: 'u', agentId: a, request: { prompt: '3' } });
    const full = runs.submit({ userId: 'u', agentId: a, request: { prompt: '4' } });
    await expect(full).rejects.toMatchObject({ status: 429, code: 'QUEUE_FULL' });
    const refused = (await full.catch((e: unknown) => e)) as { headers: Record<string, string> };
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    await runs.interrupt('u', a, { clear: true });
    await runs.close();
  });

  it('at its maxRunning, leaves runs queued and starts them as soon as one ends', async () => {
    const a = newAgent();
    const b = newAgent();
    const { runs } = await manager({ [a]: hang(), [b]: chatty(2) }, { maxRunning: 1 });
    const first = await runs.submit({ userId: 'u', agentId: a, request: { prompt: '1' } });
    const waiting = await runs.submit({ userId: 'u', agentId: b, request: { prompt: '2' } });
    expect([first.status, waiting.status]).toEqual(['running', 'queued']);
    // A pass with no room ends at once; later passes must still run.
    await runs.submit({ userId: 'u', agentId: b, request: { prompt: '3' } });
    await runs.interrupt('u', a);
    const events = await drain(runs.follow(waiting.run.requestId, 0, AbortSignal.timeout(20_000)));
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
    await runs.idle();
    expect((await runs.active('u', b)).queued).toEqual([]);
    await runs.close();
  });

  it('journals an event JSON.stringify refuses (a BigInt in a tool input) instead of losing it', async () => {
    const a = newAgent();
    const agent = scriptedAgent({
      steps: [{ type: 'tool.call', callId: 'c1', name: 'Count', input: { n: 10n ** 20n } }],
    });
    const { runs } = await manager({ [a]: agent });
    const { run } = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'go' } });
    const events = await drain(runs.follow(run.requestId, 0, AbortSignal.timeout(10_000)));
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    expect(events[0]).toMatchObject({ type: 'tool.call', input: { n: '100000000000000000000' } });
    expect(events.at(-1)?.type).toBe('run.completed');
    await runs.close();
  });

  it('validates before anything is stored', async () => {
    const a = newAgent();
    const { runs } = await manager({ [a]: chatty(1) });
    await expect(runs.submit({ userId: 'u', agentId: a, request: { prompt: ' ' } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      runs.submit({ userId: 'u', agentId: a, request: { prompt: 'x' }, webhook: { url: 'https://h.example' } }),
    ).rejects.toMatchObject({ code: 'WEBHOOKS_DISABLED' });
    expect(await runs.list('u', a, { limit: 10 })).toEqual([]);
    await runs.close();
  });

  it('interrupts the running run, and with clear ends the queued ones cancelled, each with one final event', async () => {
    const a = newAgent();
    const { runs } = await manager({ [a]: hang() });
    const running = await runs.submit({ userId: 'u', agentId: a, request: { prompt: '1' } });
    const q1 = await runs.submit({ userId: 'u', agentId: a, request: { prompt: '2' } });
    const q2 = await runs.submit({ userId: 'u', agentId: a, request: { prompt: '3' } });
    const q3 = await runs.submit({ userId: 'u', agentId: a, request: { prompt: '4' } });
    expect((await runs.removeQueued('u', q3.run.requestId))?.status).toBe('cancelled');
    expect(await runs.removeQueued('u', q3.run.requestId)).toBeUndefined();
    expect(await runs.removeQueued('u', running.run.requestId)).toBeUndefined();
    const ended = await runs.interrupt('u', a, { clear: true });
    expect(ended.map((r) => [r.requestId, r.status]).sort()).toEqual(
      [
        [running.run.requestId, 'cancelled'],
        [q1.run.requestId, 'cancelled'],
        [q2.run.requestId, 'cancelled'],
      ].sort(),
    );
    for (const id of [q1.run.requestId, q3.run.requestId]) {
      const events = await drain(runs.follow(id, 0, AbortSignal.timeout(5_000)));
      expect(events.map((e) => e.type)).toEqual(['run.completed']);
      expect(events[0]).toMatchObject({ seq: 1, result: { status: 'cancelled', error: { code: 'CANCELLED' } } });
    }
    expect(await runs.active('u', a)).toEqual({ queued: [] });
    await runs.close();
  });

  it('delivers webhooks from the outbox with a stable webhook-id per event, and lets go of the run once all are settled', async () => {
    const a = newAgent();
    const hooks = acknowledgingWebhooks();
    const { runs } = await manager({ [a]: chatty(3) }, { webhooks: hooks.port });
    const { run } = await runs.submit({
      userId: 'u',
      agentId: a,
      request: { prompt: 'go' },
      webhook: { url: 'https://hooks.example/x', secret: 's' },
    });
    await runs.idle();
    const mine = hooks.sent.filter((s) => s.requestId === run.requestId);
    expect(mine.map((s) => s.seq)).toEqual(mine.map((_, i) => i + 1));
    expect(mine.map((s) => s.webhookId)).toEqual(mine.map((s) => webhookIdOf(run.requestId, s.seq)));
    expect(mine.filter((s) => s.final)).toHaveLength(1);
    expect(await runs.store.runs.pendingOutbox(run.requestId)).toEqual([]);
    expect((await runs.get('u', run.requestId))?.owner).toBeUndefined();
    await runs.close();
  });

  it('fails a run whose agent is gone when its turn comes (AGENT_NOT_FOUND), and goes on with the queue', async () => {
    const { runs } = await manager({});
    const gone = newAgent();
    const { run } = await runs.submit({ userId: 'u', agentId: gone, request: { prompt: 'x' } });
    await runs.idle();
    expect(await runs.get('u', run.requestId)).toMatchObject({
      status: 'failed',
      error: { code: 'AGENT_NOT_FOUND' },
      eventCount: 1,
    });
    await runs.close();
  });

  it('after a restart, ends the run the dead instance was running (PLATFORM_RESTARTED, retryable) after its last journaled event, sends its final webhook, then starts the queued ones', async () => {
    const a = newAgent();
    const store = await testStore();
    const hooks = acknowledgingWebhooks();
    // A previous life of instance "inst-restart": it claimed a run, journaled two events, and died.
    const dead = await store.runs.enqueue({
      requestId: 'req_restart1',
      userId: 'u',
      agentId: a,
      request: { prompt: 'first' },
      webhook: { url: 'https://hooks.example/r' },
      now: Date.now(),
      maxQueued: 10,
    });
    const queued = await store.runs.enqueue({
      requestId: 'req_restart2',
      userId: 'u',
      agentId: a,
      request: { prompt: 'second' },
      now: Date.now(),
      maxQueued: 10,
    });
    expect('run' in dead && 'run' in queued).toBe(true);
    let claimed = await store.runs.claimNext('inst-restart', Date.now(), Date.now() + 60_000);
    while (claimed && claimed.requestId !== 'req_restart1')
      claimed = await store.runs.claimNext('inst-restart', Date.now(), Date.now() + 60_000);
    const body = (seq: number) =>
      JSON.stringify({ type: 'text.delta', runId: 'req_restart1', seq, time: 1, provider: 'scripted', text: 'x' });
    await store.runs.append('req_restart1', 'inst-restart', [
      { seq: 1, type: 'text.delta', time: 1, body: body(1), webhookId: webhookIdOf('req_restart1', 1) },
      { seq: 2, type: 'text.delta', time: 2, body: body(2), webhookId: webhookIdOf('req_restart1', 2) },
    ]);
    await store.runs.settleOutbox('req_restart1', 1, 'delivered', Date.now());

    const { runs } = await manager({ [a]: chatty(1) }, { instanceId: 'inst-restart', webhooks: hooks.port });
    await runs.idle();
    const ended = await runs.get('u', 'req_restart1');
    expect(ended).toMatchObject({
      status: 'failed',
      error: { code: 'PLATFORM_RESTARTED', retryable: true },
      eventCount: 3,
    });
    const events = await drain(runs.follow('req_restart1', 0, AbortSignal.timeout(5_000)));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'text.delta'],
      [2, 'text.delta'],
      [3, 'run.completed'],
    ]);
    // Event 1 was delivered before the crash; 2 and the final one now, under their own ids.
    expect(hooks.sent.filter((s) => s.requestId === 'req_restart1').map((s) => [s.seq, s.webhookId, s.final])).toEqual([
      [2, webhookIdOf('req_restart1', 2), false],
      [3, webhookIdOf('req_restart1', 3), true],
    ]);
    expect((await runs.get('u', 'req_restart2'))?.status).toBe('completed');
    await runs.close();
  });

  it('answers a permission request of a run it executes', async () => {
    const a = newAgent();
    const agent = scriptedAgent({
      steps: [{ type: 'permission.requested', id: 'p1', tool: 'Bash', input: {} }, { awaitPermission: 'p1' }],
    });
    const { runs } = await manager({ [a]: agent });
    const { run } = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'go' } });
    while (!runs.local(run.requestId)?.pendingPermissions.has('p1')) await new Promise((r) => setTimeout(r, 5));
    await expect(runs.respond('u', a, 'p1', 'perhaps')).rejects.toMatchObject({ code: 'INVALID_DECISION' });
    await expect(runs.respond('u', a, 'p2', 'allow')).rejects.toMatchObject({ status: 404 });
    await runs.respond('u', a, 'p1', 'allow');
    const events = await drain(runs.follow(run.requestId, 0, AbortSignal.timeout(5_000)));
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: 'permission allow' });
    await runs.close();
  });
});

describe('RunManager retention', () => {
  it('deletes the stored sessions no run names that were not saved within the retention period', async () => {
    const { runs } = await manager({}, { retention: { maxAgeMs: 60_000, maxEvents: 1_000_000 } });
    const store = await testStore();
    const saveAt = (sessionId: string, at: number) =>
      sqlSessionStore(store.sql, { now: () => at }).save(
        { provider: 'claude-code', sessionId },
        { files: [{ path: 'a.jsonl', data: new TextEncoder().encode('{}\n') }] },
      );
    await saveAt('rm-old', Date.now() - 120_000);
    await saveAt('rm-recent', Date.now());
    await runs.sweep();
    const left = (await sqlSessionStore(store.sql).list()).map((s) => s.sessionId);
    expect(left).toContain('rm-recent');
    expect(left).not.toContain('rm-old');
    await runs.close();
  });

  it('sweeps audit entries older than auditMaxAgeMs, and keeps the recent ones', async () => {
    const store = await testStore();
    const { runs } = await manager(
      {},
      { store, retention: { maxAgeMs: 60_000, maxEvents: 1_000_000, auditMaxAgeMs: 3_600_000 } },
    );
    await store.audit.append({
      actor: { userId: 'u' },
      action: 'agent.deleted',
      target: 'ret-old',
      details: {},
      at: Date.now() - 7_200_000,
    });
    await store.audit.append({ actor: { userId: 'u' }, action: 'agent.deleted', target: 'ret-recent', details: {} });
    await runs.sweep();
    const left = (await store.audit.list({ limit: 1_000 })).map((e) => e.target);
    expect(left).toContain('ret-recent');
    expect(left).not.toContain('ret-old');
    await runs.close();
  });
});
