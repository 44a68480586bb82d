import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseApiKeyList } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { scriptedDemoAgent } from './providers/scripted-demo.js';
import { apiClient } from './test-support/api-harness.js';
import { testConfig } from './test-support/test-config.js';

/**
 * Two replicas of the real platform (startPlatform) on one database: PGlite shared in this process, and PostgreSQL
 * with a pool per replica. A key revoked through one is refused by the other at its next request; both count one
 * rate limit per key and per address; the audit log is one.
 */
const OPS = 'ops-bootstrap-key-0123456789';
const BOB = 'bob-bootstrap-key-0123456789';
const pg = await testDatabases();

type Limits = { rateLimitPerMinute?: number; rateLimitPerAddress?: number };

async function replicas(
  open: () => Promise<{ stores: [ForgeStore, ForgeStore]; close: () => Promise<void> }>,
  limits: Limits = {},
) {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-operator-replicas-'));
  const { stores, close } = await open();
  const platforms: Platform[] = [];
  try {
    for (const [i, store] of stores.entries()) {
      const registry = createProviderRegistry();
      registry.register('scripted', scriptedDemoAgent({ delayMs: 1 }));
      platforms.push(
        await startPlatform({
          config: {
            ...testConfig(),
            port: 0,
            dataDir: join(scratch, `replica-${i}`),
            apiKeys: parseApiKeyList(`ops:${OPS},bob:${BOB}`).map((k) =>
              k.userId === 'ops' ? { ...k, admin: true } : k,
            ),
            defaultProvider: 'scripted',
            rateLimitPerMinute: limits.rateLimitPerMinute ?? 100_000,
            rateLimitPerAddress: limits.rateLimitPerAddress ?? 0,
          },
          registry,
          store,
          pollMs: 50,
        }),
      );
    }
  } catch (error) {
    await Promise.all(platforms.map((p) => p.close()));
    await close();
    throw error;
  }
  const [a, b] = platforms as [Platform, Platform];
  return {
    a: (key = OPS) => apiClient(a.url, key),
    b: (key = OPS) => apiClient(b.url, key),
    urls: [a.url, b.url] as const,
    async close() {
      await Promise.all(platforms.map((p) => p.close()));
      await close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Opens the attach WebSocket with `key`: the status the upgrade was answered with. */
const attachStatus = (url: string, key: string) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(
      `${url.replace('http', 'ws')}/api/v1/agents/agt_0123456789abcdef0123/attach`,
      ['v5.channel.k8s.io'],
      {
        headers: { authorization: `Bearer ${key}` },
      },
    );
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('upgrade', (res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });

/**
 * Runs `fn` inside one of the limiter's fixed windows (the clock's minutes): started late in a minute, it waits for
 * the next. Running it again after a boundary fell inside it could not work (it threw on the restarted counts
 * before saying so, and its requests after the boundary counted against the second try), and at load 15 one did.
 */
async function inOneWindow(fn: () => Promise<string[]>): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 20_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  const resets = await fn();
  expect(new Set(resets).size).toBe(1);
}

function operatorReplicas(
  name: string,
  open: () => Promise<{ stores: [ForgeStore, ForgeStore]; close: () => Promise<void> }>,
) {
  describe(`two replicas on one database (${name})`, () => {
    it('a key issued on one works on the other; revoked on one, the other refuses it at once; one audit log', async () => {
      const r = await replicas(open);
      try {
        const made = await r.a()('POST', '/api/v1/api-keys', { body: { user: 'carol' } });
        expect(made.status).toBe(201);
        const key = made.json.key as string;
        const agent = await r.b(key)('POST', '/api/v1/agents', { body: {} });
        expect(agent.status).toBe(201);
        expect((await r.a(key)('GET', '/api/v1/agents')).status).toBe(200);
        expect((await r.b(key)('GET', '/api/v1/agents')).status).toBe(200);

        expect((await r.a()('DELETE', `/api/v1/api-keys/${made.json.id}`)).status).toBe(200);
        const refused = await r.b(key)('GET', '/api/v1/agents');
        expect([refused.status, refused.json.error.code]).toEqual([401, 'UNAUTHENTICATED']);
        expect((await r.a(key)('GET', '/api/v1/agents')).status).toBe(401);

        // Both replicas wrote to one log: the issue and revocation on a, the agent created on b with carol's key.
        const log = (await r.b()('GET', '/api/v1/audit')).json.entries as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
        expect(log.map((e) => e.action)).toEqual(['api_key.revoked', 'agent.created', 'api_key.issued']);
        expect(log[1]).toMatchObject({
          actor: { user_id: 'carol', key_id: made.json.id },
          target: agent.json.agent_id,
          details: { provider: 'scripted' },
        });

        // Failed authentications from one address count once, for both replicas and the attach socket alike:
        // guessing on a only, the next guess on b (API or attach) is refused too.
        const guess = 'forge_sk_guessing-0000000000000000000000000000000000';
        let refusedGuess;
        for (let tries = 0; tries <= 30; tries++) {
          refusedGuess = await r.a(guess)('GET', '/api/v1/agents');
          if (refusedGuess.status !== 401) break;
        }
        expect([refusedGuess!.status, refusedGuess!.json.error.code]).toEqual([429, 'TOO_MANY_AUTH_FAILURES']);
        const onB = await r.b(guess)('GET', '/api/v1/agents');
        expect([onB.status, onB.json.error.code]).toEqual([429, 'TOO_MANY_AUTH_FAILURES']);
        expect(await attachStatus(r.urls[1], guess)).toBe(429);
      } finally {
        await r.close();
      }
    }, 120_000);

    it('counts one rate limit per key and one per address across both replicas', async () => {
      const r = await replicas(open, { rateLimitPerMinute: 4, rateLimitPerAddress: 6 });
      try {
        await inOneWindow(async () => {
          const seen: Array<{ status: number; code?: string; remaining: string | null; reset: string | null }> = [];
          const note = (res: Awaited<ReturnType<ReturnType<typeof r.a>>>) => {
            seen.push({
              status: res.status,
              ...(res.json?.error ? { code: res.json.error.code } : {}),
              remaining: res.headers.get('x-ratelimit-remaining'),
              reset: res.headers.get('x-ratelimit-reset'),
            });
            return res;
          };
          // ops: four requests, alternating replicas, then a fifth: one limit of 4, not 4 per replica.
          for (const call of [r.a(), r.b(), r.a(), r.b(), r.a()]) note(await call('GET', '/api/v1/agents'));
          // bob's own key limit is untouched, but the address has sent 6 now: the 7th is refused.
          note(await r.b(BOB)('GET', '/api/v1/agents'));
          const last = note(await r.a(BOB)('GET', '/api/v1/agents'));
          expect(seen.map((s) => [s.status, s.code ?? null])).toEqual([
            [200, null],
            [200, null],
            [200, null],
            [200, null],
            [429, 'RATE_LIMITED'],
            [200, null],
            [429, 'RATE_LIMITED'],
          ]);
          expect(seen.slice(0, 4).map((s) => s.remaining)).toEqual(['3', '2', '1', '0']);
          expect(seen[5]!.remaining).toBe('3');
          expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
          expect(last.headers.get('x-ratelimit-limit')).toBe('6');
          return seen.map((s) => s.reset ?? '');
        });
      } finally {
        await r.close();
      }
    }, 120_000);
  });
}

operatorReplicas('PGlite shared in one process', async () => {
  const store = await openStore({ memory: true });
  // Not exclusive: each replica must leave the other's runs alone, as on PostgreSQL.
  const shared = { ...store, exclusive: false, close: async () => {} };
  return { stores: [shared, shared], close: () => store.close() };
});

describe.skipIf(!pg.url)(`PostgreSQL${pg.url ? '' : ` (skipped: ${pg.reason})`}`, () => {
  afterAll(() => pg.dropAll());
  operatorReplicas('PostgreSQL, a pool per replica', async () => {
    const url = await pg.create();
    const a = await openStore({ databaseUrl: url });
    const b = await openStore({ databaseUrl: url });
    return {
      stores: [
        { ...a, close: async () => {} },
        { ...b, close: async () => {} },
      ],
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  });
});
