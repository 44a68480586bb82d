import { grpcAgent } from '@forge/transport-grpc';
import { openStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakePods } from '../backends/fake-pods.js';
import { k8sBackend } from '../backends/k8s-backend.js';
import { ADMIN_KEY, USER, USER_KEY, startOpsPlatform, type OpsPlatform } from '../test-support/ops-platform.js';
import { parseMetrics } from '../test-support/prometheus-text.js';
import { startTestReceiver, type TestReceiver } from '../webhooks/test-receiver.js';
import { meteredPods } from './metered-pods.js';
import { PlatformMetrics } from './platform-metrics.js';

const pg = await testDatabases();

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function metricsContract(name: string, open: () => Promise<OpsPlatform>) {
  describe(`GET /metrics on the real platform (${name})`, () => {
    let ops: OpsPlatform;
    let receiver: TestReceiver;
    const scrape = async () => {
      const res = await ops.call('GET', '/metrics', { key: ADMIN_KEY });
      expect(res.status).toBe(200);
      return res.text;
    };

    beforeAll(async () => {
      ops = await open();
      receiver = await startTestReceiver();
    });
    afterAll(async () => {
      await ops?.close();
      await receiver?.close();
    });

    it('takes an admin key on the main port: 401 without a key, 403 ADMIN_REQUIRED with a user key', async () => {
      const none = await ops.call('GET', '/metrics', { key: null });
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('UNAUTHENTICATED');
      const user = await ops.call('GET', '/metrics', { key: USER_KEY });
      expect(user.status).toBe(403);
      expect(user.json.error.code).toBe('ADMIN_REQUIRED');
      const res = await fetch(`${ops.platform.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    });

    it('moves as scripted runs happen, and its labels carry no user, agent or request id', async () => {
      const before = parseMetrics(await scrape());
      // A fresh platform's registry: nothing counted by the other platforms this process ran.
      expect(before.value('forge_runs_total', { provider: 'scripted', status: 'completed' })).toBe(0);

      const agentId = await ops.newAgent();
      const ids = [
        await ops.runToEnd(agentId, 'costly', { webhook_url: receiver.url('/hook'), webhook_secret: 'generate' }),
        await ops.runToEnd(agentId, 'cheap'),
        await ops.runToEnd(agentId, 'fail'),
      ];
      // Every event of the first run reaches the receiver (and is counted) before it is checked.
      await until(
        async () =>
          parseMetrics(await scrape()).value('forge_webhook_deliveries_total', { outcome: 'delivered' }) > 0 &&
          receiver.hitsTo('/hook').some((h) => h.payload?.is_final),
        'webhooks',
      );
      await until(
        async () =>
          parseMetrics(await scrape()).value('forge_webhook_deliveries_total', { outcome: 'delivered' }) ===
          receiver.hitsTo('/hook').length,
        'every webhook counted',
      );

      // An SSE reader is counted while it reads, and no longer once its stream ends.
      const sent = await ops.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hang' } });
      const hanging = sent.json.request_id as string;
      const stream = await fetch(`${ops.platform.url}/api/v1/agents/${agentId}/events?request_id=${hanging}`, {
        headers: { authorization: `Bearer ${USER_KEY}` },
      });
      await until(async () => parseMetrics(await scrape()).value('forge_sse_readers') === 1, 'one SSE reader');
      expect((await ops.call('POST', `/api/v1/agents/${agentId}/interrupt`)).status).toBe(200);
      await stream.text();
      await until(async () => parseMetrics(await scrape()).value('forge_sse_readers') === 0, 'no SSE reader');

      const text = await scrape();
      const after = parseMetrics(text);
      const scripted = { provider: 'scripted' };
      expect(after.value('forge_runs_total', { ...scripted, status: 'completed' })).toBe(2);
      expect(after.value('forge_runs_total', { ...scripted, status: 'failed' })).toBe(1);
      expect(after.value('forge_runs_total', { ...scripted, status: 'cancelled' })).toBe(1);
      expect(after.count('forge_run_duration_seconds', scripted)).toBe(4);
      expect(after.count('forge_run_first_event_seconds', scripted)).toBe(4);
      expect(after.count('forge_queue_wait_seconds')).toBe(4);
      expect(after.value('forge_queue_depth')).toBe(0);
      expect(after.value('forge_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(3);
      expect(after.count('forge_webhook_delivery_seconds')).toBe(
        after.value('forge_webhook_deliveries_total', { outcome: 'delivered' }),
      );
      expect(after.value('forge_agents', { backend: 'local', state: 'ready' })).toBe(1);
      expect(after.value('forge_remote_agents_online')).toBe(0);
      expect(after.family('forge_pod_ready_seconds')?.type).toBe('histogram');
      // The store's operations, by method name: a fixed set.
      const ops_ = after.labelValues('forge_store_query_seconds', 'op');
      expect(ops_).toEqual(expect.arrayContaining(['runs.enqueue', 'runs.claim', 'runs.append', 'keySpend.add']));
      for (const op of ops_) expect(op).toMatch(/^(runs|keySpend|agentSettings|usage)\.[A-Za-z]+$/);
      expect(after.count('forge_store_query_seconds', { op: 'runs.append' })).toBeGreaterThan(0);

      // Bounded labels: providers only as registered, and no id anywhere.
      expect(after.labelValues('forge_runs_total', 'provider')).toEqual(['scripted']);
      const values = after.allLabelValues();
      for (const id of [USER, 'opsadmin', agentId, hanging, ...ids]) {
        expect(values).not.toContain(id);
        expect(text).not.toContain(id);
      }
    });
  });
}

metricsContract('PGlite', () => startOpsPlatform('memory'));

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  metricsContract('PostgreSQL', async () => startOpsPlatform(await openStore({ databaseUrl: await pg.create() })));
});

describe('FORGE_METRICS_PORT and the k8s backend', () => {
  let ops: OpsPlatform;
  const metrics = new PlatformMetrics();
  const { manager, pods } = fakePods();

  beforeAll(async () => {
    const backend = k8sBackend({
      pods: meteredPods(manager, metrics),
      providers: ['scripted'],
      connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider }),
    });
    ops = await startOpsPlatform('memory', { metricsPort: 0, backend: 'k8s' }, { backend, metrics });
  });
  afterAll(async () => ops?.close());

  it('serves /metrics alone on its own port without a key, and not on the main port', async () => {
    expect(ops.platform.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${ops.platform.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(parseMetrics(await res.text()).family('forge_runs_total')?.type).toBe('counter');
    expect((await fetch(`${ops.platform.metricsUrl}/api/v1/agents`)).status).toBe(404);
    expect((await ops.call('GET', '/metrics', { key: ADMIN_KEY })).status).toBe(404);
  });

  it('times pods from creation to ready, and counts agents by backend and state', async () => {
    await ops.newAgent();
    await ops.newAgent();
    expect(pods.size).toBe(2);
    const m = parseMetrics(await (await fetch(`${ops.platform.metricsUrl}/metrics`)).text());
    expect(m.count('forge_pod_ready_seconds')).toBe(2);
    expect(m.value('forge_agents', { backend: 'k8s', state: 'ready' })).toBe(2);
    expect(m.value('forge_agents', { backend: 'k8s', state: 'starting' })).toBe(0);
  });

  it('keeps each platform’s counts apart: two registries in one process share nothing', () => {
    const other = new PlatformMetrics();
    other.runsTotal.inc({ provider: 'x', status: 'completed' });
    expect(metrics.registry).not.toBe(other.registry);
    expect(metrics.runsTotal).not.toBe(other.runsTotal);
  });
});
