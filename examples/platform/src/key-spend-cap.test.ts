import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from './backends/local-backend.js';
import { BOB_KEY, startApiHarness, testStore, type ApiHarness } from './test-support/api-harness.js';

/**
 * Per API key spend (issue 23): alice's key may spend 100 tokens a day, counted in the store from the usage each
 * run journals, whichever replica runs it. Replica B runs nothing itself (maxRunning 0): what it refuses, it
 * refuses from the figure replica A wrote.
 */
const pg = await testDatabases();
const ALICE_CAPPED = 'alice-capped-key-0123456789';

const usage = (tokens: number): ScriptStep => ({
  type: 'usage',
  usage: { inputTokens: tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
});

function stepsFor(prompt: string): ScriptStep[] {
  const [started] = sampleScript();
  if (prompt === 'spend 60') return [started!, usage(60), { type: 'message', text: 'done' }];
  // Keeps working (and spending) until stopped.
  if (prompt === 'runaway') return [started!, usage(30), { delayMs: 20 }, usage(30), { hang: true }];
  return [started!, usage(5), { type: 'message', text: 'ok' }];
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Stores = () => Promise<{ a: ForgeStore; b: ForgeStore; close(): Promise<void> }>;

function capAcrossReplicas(name: string, stores: Stores) {
  describe(`a key's daily cap across two replicas (${name})`, () => {
    let a: ApiHarness;
    let b: ApiHarness;
    let shared: string;
    let close: () => Promise<void>;

    beforeAll(async () => {
      shared = await mkdtemp(join(tmpdir(), 'forge-key-spend-'));
      const s = await stores();
      close = s.close;
      const providers = { scripted: scriptedAgent({ steps: (request) => stepsFor(request.prompt) }) };
      const backend = (registry: Parameters<typeof localBackend>[0]['registry']) =>
        localBackend({ dataDir: shared, registry });
      // A cap per key: a fresh key per database, so the PGlite file's other tests never count against it.
      const apiKeys = JSON.stringify([
        { user: 'alice', key: ALICE_CAPPED, daily_tokens: 100 },
        { user: 'bob', key: BOB_KEY },
      ]);
      a = await startApiHarness({ providers, backend, store: s.a, apiKeys });
      b = await startApiHarness({ providers, backend, store: s.b, apiKeys, runManager: { maxRunning: 0 } });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await close?.();
      if (shared) await rm(shared, { recursive: true, force: true });
    });

    it('counts spend in the store, stops a running run with BUDGET_EXCEEDED, then refuses new messages on every replica', async () => {
      const key = ALICE_CAPPED;
      const agentId = (await a.call('POST', '/api/v1/agents', { key, body: { provider: 'scripted' } })).json.agent_id;
      const M = `/api/v1/agents/${agentId}/messages`;
      const runOf = async (h: ApiHarness, rid: string) =>
        (await h.call('GET', `/api/v1/agents/${agentId}/runs/${rid}`, { key })).json;

      const first = await b.call('POST', M, { key, body: { content: 'spend 60' } });
      expect(first.status).toBe(202);
      await until(async () => (await runOf(b, first.json.request_id)).status === 'completed', 'the first run');

      // 60 spent; this one spends 30 (90, under the cap), then 30 more (120): stopped, its session kept.
      const runaway = await b.call('POST', M, { key, body: { content: 'runaway' } });
      const rid = runaway.json.request_id as string;
      await until(
        async () => ['completed', 'failed', 'cancelled'].includes((await runOf(b, rid)).status),
        'the runaway run to be stopped',
      );
      const stopped = await runOf(b, rid);
      expect(stopped.status).toBe('failed');
      expect(stopped.result.error.code).toBe('BUDGET_EXCEEDED');
      expect(stopped.result.sessionId).toBeDefined();

      for (const h of [a, b]) {
        const refused = await h.call('POST', M, { key, body: { content: 'one more' } });
        expect(refused.status).toBe(429);
        expect(refused.json.error.code).toBe('BUDGET_EXHAUSTED');
        const resets = new Date(refused.json.error.details.resets_at);
        expect(resets.getUTCHours()).toBe(0);
        expect(resets.getTime()).toBeGreaterThan(Date.now());
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(refused.json.error.details).toMatchObject({ spent: { tokens: 120 }, cap: { tokens: 100 } });
      }

      // The key's figure, as both replicas read it.
      for (const h of [a, b]) {
        const spend = await h.call('GET', '/api/v1/spend', { key });
        expect(spend.json).toMatchObject({ spent: { tokens: 120, cost_usd: 0 }, cap: { tokens: 100 } });
      }
      expect((await b.call('GET', '/api/v1/spend', { key: BOB_KEY })).json.cap).toBeUndefined();

      // Another key is not held back by alice's spend.
      const bobAgent = (await a.call('POST', '/api/v1/agents', { key: BOB_KEY, body: { provider: 'scripted' } })).json
        .agent_id;
      expect(
        (await b.call('POST', `/api/v1/agents/${bobAgent}/messages`, { key: BOB_KEY, body: { content: 'hi' } })).status,
      ).toBe(202);
    });
  });
}

capAcrossReplicas('PGlite, one store shared by two managers', async () => {
  const store = await testStore();
  return { a: store, b: store, close: async () => {} };
});

describe.skipIf(!pg.url)(`PostgreSQL (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`, () => {
  afterAll(() => pg.dropAll());
  capAcrossReplicas('PostgreSQL, two connection pools', async () => {
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
  });
});
