import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '../backends/local-backend.js';
import { startApiHarness } from '../test-support/api-harness.js';
import { ADMIN_KEY, USER, USER_KEY, startOpsPlatform, type OpsPlatform } from '../test-support/ops-platform.js';
import { usageQuery } from './usage-routes.js';

const pg = await testDatabases();
const today = () => new Date().toISOString().slice(0, 10);

function usageContract(name: string, open: () => Promise<OpsPlatform>) {
  describe(`GET /api/v1/usage on the real platform (${name})`, () => {
    let ops: OpsPlatform;
    let agents: string[];

    beforeAll(async () => {
      ops = await open();
      agents = [await ops.newAgent(), await ops.newAgent()];
      // Agent 1: costly (10 in, 5 out, $0.03 with its result's cost) and cheap (1 in, 2 out); agent 2: cheap, fail.
      await ops.runToEnd(agents[0]!, 'costly');
      await ops.runToEnd(agents[0]!, 'cheap');
      await ops.runToEnd(agents[1]!, 'cheap');
      await ops.runToEnd(agents[1]!, 'fail');
      // The admin's own run: not in the user's figures.
      const adminAgent = await ops.call('POST', '/api/v1/agents', { key: ADMIN_KEY, body: { provider: 'scripted' } });
      const sent = await ops.call('POST', `/api/v1/agents/${adminAgent.json.agent_id}/messages`, {
        key: ADMIN_KEY,
        body: { content: 'costly' },
      });
      expect(sent.status).toBe(202);
    });
    afterAll(async () => ops?.close());

    it('groups the key’s user’s finished runs by day, agent and provider, matching the runs done', async () => {
      const byDay = await ops.call('GET', '/api/v1/usage?group_by=day');
      expect(byDay.status).toBe(200);
      expect(byDay.json.user).toBe(USER);
      const total = { runs: 4, tokens_in: 13, tokens_out: 11 };
      expect(byDay.json.groups).toEqual([expect.objectContaining({ key: today(), ...total })]);
      expect(byDay.json.total).toMatchObject(total);
      expect(byDay.json.total.cost_usd).toBeCloseTo(0.03, 10);
      expect(byDay.json.total.duration_ms).toBeGreaterThanOrEqual(0);

      const byAgent = await ops.call('GET', '/api/v1/usage?group_by=agent');
      const rows = Object.fromEntries((byAgent.json.groups as Array<Record<string, unknown>>).map((g) => [g.key, g]));
      expect(Object.keys(rows).sort()).toEqual([...agents].sort());
      expect(rows[agents[0]!]).toMatchObject({ user_id: USER, runs: 2, tokens_in: 11, tokens_out: 7 });
      expect(rows[agents[1]!]).toMatchObject({ user_id: USER, runs: 2, tokens_in: 2, tokens_out: 4, cost_usd: 0 });

      const byProvider = await ops.call('GET', '/api/v1/usage?group_by=provider');
      expect(byProvider.json.groups).toEqual([expect.objectContaining({ key: 'scripted', ...total })]);
    });

    it('agrees with GET /api/v1/spend: the same tokens and cost, from the one tally', async () => {
      const spend = await ops.call('GET', '/api/v1/spend');
      const usage = await ops.call('GET', `/api/v1/usage?from=${today()}`);
      expect(spend.json.spent.tokens).toBe(usage.json.total.tokens_in + usage.json.total.tokens_out);
      expect(spend.json.spent.cost_usd).toBeCloseTo(usage.json.total.cost_usd, 10);
    });

    it('lets an admin read any user’s, or everyone’s; a user only their own', async () => {
      const theirs = await ops.call('GET', `/api/v1/usage?user=${USER}`, { key: ADMIN_KEY });
      expect(theirs.status).toBe(200);
      expect(theirs.json.total.runs).toBe(4);
      // Everyone's: once the admin's own run has ended too.
      const deadline = Date.now() + 30_000;
      let all = await ops.call('GET', '/api/v1/usage?user=*', { key: ADMIN_KEY });
      while (all.json.total.runs < 5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        all = await ops.call('GET', '/api/v1/usage?user=*', { key: ADMIN_KEY });
      }
      expect(all.json).toMatchObject({ user: '*', total: { runs: 5, tokens_in: 23, tokens_out: 16 } });
      expect((await ops.call('GET', `/api/v1/usage?user=${USER}`)).status).toBe(200);
      const other = await ops.call('GET', '/api/v1/usage?user=opsadmin');
      expect(other.status).toBe(403);
      expect(other.json.error.code).toBe('ADMIN_REQUIRED');
      expect((await ops.call('GET', '/api/v1/usage?user=*')).status).toBe(403);
      expect((await ops.call('GET', '/api/v1/usage', { key: null })).status).toBe(401);
      // A range before the runs has none.
      const before = await ops.call('GET', '/api/v1/usage?from=2020-01-01&to=2020-01-31', { key: USER_KEY });
      expect(before.json).toMatchObject({ groups: [], total: { runs: 0, tokens_in: 0, cost_usd: 0 } });
    });
  });
}

usageContract('PGlite', () => startOpsPlatform('memory'));

describe.skipIf(!pg.url)('PostgreSQL (FORGE_TEST_DATABASE_URL)', () => {
  afterAll(() => pg.dropAll());
  usageContract('PostgreSQL', async () => startOpsPlatform(await openStore({ databaseUrl: await pg.create() })));

  it('is written by the replica that ran the run and read the same through the other', async () => {
    const url = await pg.create();
    const [sa, sb] = [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
    const shared = await mkdtemp(join(tmpdir(), 'forge-usage-replicas-'));
    const backend = (registry: Parameters<typeof localBackend>[0]['registry']) =>
      localBackend({ dataDir: shared, registry });
    // A runs nothing itself: every run is claimed and ended by B.
    const a = await startApiHarness({ store: sa, backend, runManager: { maxRunning: 0 } });
    const b = await startApiHarness({ store: sb, backend });
    try {
      const agentId = (await a.call('POST', '/api/v1/agents', { body: {} })).json.agent_id as string;
      const sent = await a.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hello' } });
      expect(sent.status).toBe(202);
      const deadline = Date.now() + 30_000;
      let usage = await a.call('GET', '/api/v1/usage?group_by=provider');
      while (usage.json.total.runs < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        usage = await a.call('GET', '/api/v1/usage?group_by=provider');
      }
      const run = await a.call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`);
      expect(run.json.status).toBe('completed');
      expect(usage.json.groups).toEqual([expect.objectContaining({ key: 'scripted', runs: 1 })]);
      const throughB = (await b.call('GET', '/api/v1/usage?group_by=provider')).json;
      expect([throughB.groups, throughB.total]).toEqual([usage.json.groups, usage.json.total]);
      const spend = await a.call('GET', '/api/v1/spend');
      expect(spend.json.spent.tokens).toBe(usage.json.total.tokens_in + usage.json.total.tokens_out);
    } finally {
      await a.close();
      await b.close();
      await sa.close();
      await sb.close();
      await rm(shared, { recursive: true, force: true });
    }
  });
});

describe('the usage query', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const q = (s: string) => usageQuery(new URLSearchParams(s), now);
  const refused = (s: string) => {
    try {
      q(s);
    } catch (error) {
      return (error as { status: number; code: string }).code;
    }
    return 'accepted';
  };

  it('defaults to the 30 days before now, by day, for the key’s user', () => {
    expect(q('')).toEqual({ from: now - 30 * 86_400_000, to: now, groupBy: 'day', user: undefined });
    expect(q('from=2026-12-01&to=2026-12-07T10:00:00%2B02:00&group_by=agent&user=bob')).toEqual({
      from: Date.parse('2026-12-01T00:00:00Z'),
      to: Date.parse('2026-12-07T08:00:00Z'),
      groupBy: 'agent',
      user: 'bob',
    });
  });

  it.each([
    ['an unknown parameter', 'since=2026-12-01'],
    ['a repeated parameter', 'group_by=day&group_by=agent'],
    ['a date-time without a zone', 'from=2026-12-01T10:00:00'],
    ['a date that does not exist', 'from=2026-02-30'],
    ['not a date', 'to=yesterday'],
    ['epoch milliseconds', 'from=1765000000000'],
    ['from after to', 'from=2026-12-07&to=2026-12-01'],
    ['an empty range', 'from=2026-12-01&to=2026-12-01'],
    ['more than 367 days', 'from=2025-01-01&to=2026-12-01'],
    ['an unknown grouping', 'group_by=week'],
    ['a user id that cannot be one', 'user=a%20b'],
  ])('refuses %s with 400 INVALID_USAGE_QUERY', (_what, query) => {
    expect(refused(query)).toBe('INVALID_USAGE_QUERY');
  });
});
