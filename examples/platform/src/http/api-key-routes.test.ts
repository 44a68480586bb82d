import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../api-keys.js';
import { ALICE_KEY, BOB_KEY, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/**
 * API keys issued over the API (issue 29, item 4): alice's bootstrap key is an admin's, bob's is not. The security
 * cases (a revoked or expired key refused, a non-admin refused, the key never listed) failed first: with the
 * revocation and expiry checks or the admin check taken out of the code, these tests fail.
 */
describe('API keys over the API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ adminUsers: 'alice' });
  });
  afterAll(() => h?.close());

  const issue = (body: Record<string, unknown>, key = ALICE_KEY) => h.call('POST', '/api/v1/api-keys', { key, body });

  it('issues a key once: it works at once, acts as its user, and is never shown again, nor its hash', async () => {
    const made = await issue({ user: 'carol' });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ user: 'carol', admin: false, created_by: 'alice', expires_at: null });
    expect(made.json.key).toMatch(/^forge_sk_[A-Za-z0-9_-]{43}$/);
    expect(made.json.id).toMatch(/^key_[0-9a-f]{20}$/);
    const key = made.json.key as string;

    const agent = await h.call('POST', '/api/v1/agents', { key, body: {} });
    expect(agent.status).toBe(201);
    expect(agent.json.user_id).toBe('carol');

    const list = await h.call('GET', '/api/v1/api-keys');
    expect(list.status).toBe(200);
    const mine = list.json.keys.find((k: { id: string }) => k.id === made.json.id);
    expect(mine).toMatchObject({ user: 'carol', admin: false, revoked_at: null });
    expect(mine.last_used_at).not.toBeNull();
    expect(Object.keys(mine).sort()).toEqual(
      ['admin', 'created_at', 'created_by', 'expires_at', 'id', 'last_used_at', 'revoked_at', 'user'].sort(),
    );
    expect(list.text).not.toContain(key);
    expect(list.text).not.toContain(key.slice('forge_sk_'.length, 20));
    expect(list.text).not.toContain(hashKey(key).toString('hex'));
    expect(list.text).not.toContain(hashKey(key).toString('base64'));
    await h.call('DELETE', `/api/v1/agents/${agent.json.agent_id}`, { key });
  });

  it('refuses a revoked key at the next request, and a second revocation is a 404', async () => {
    const made = await issue({ user: 'carol' });
    const key = made.json.key as string;
    expect((await h.call('GET', '/api/v1/agents', { key })).status).toBe(200);
    const revoked = await h.call('DELETE', `/api/v1/api-keys/${made.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: made.json.id, revoked: true });
    const after = await h.call('GET', '/api/v1/agents', { key });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('UNAUTHENTICATED');
    expect((await h.call('DELETE', `/api/v1/api-keys/${made.json.id}`)).json.error.code).toBe('API_KEY_NOT_FOUND');
    expect((await h.call('DELETE', '/api/v1/api-keys/key_nope')).status).toBe(404);
  });

  it('refuses an expired key, and will not issue one that is expired already', async () => {
    const key = 'forge_sk_expired-key-for-the-test-0000000000000';
    await h.store.apiKeys.insert({
      keyId: 'key_00000000000000000001',
      userId: 'carol',
      hash: hashKey(key).toString('hex'),
      admin: false,
      createdAt: Date.now() - 120_000,
      expiresAt: Date.now() - 1,
    });
    expect((await h.call('GET', '/api/v1/agents', { key })).status).toBe(401);
    const past = await issue({ user: 'carol', expires_at: new Date(Date.now() - 1_000).toISOString() });
    expect([past.status, past.json.error.code]).toEqual([400, 'INVALID_EXPIRES_AT']);
    const later = await issue({ user: 'carol', expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(later.status).toBe(201);
    expect(Date.parse(later.json.expires_at)).toBeGreaterThan(Date.now());
    expect((await h.call('GET', '/api/v1/agents', { key: later.json.key })).status).toBe(200);
  });

  it('takes an admin key for every key route: 403 for bob and for a non-admin issued key', async () => {
    const carol = (await issue({ user: 'carol' })).json;
    for (const key of [BOB_KEY, carol.key as string]) {
      for (const [method, path, body] of [
        ['POST', '/api/v1/api-keys', { user: 'mallory', admin: true }],
        ['GET', '/api/v1/api-keys', undefined],
        ['DELETE', `/api/v1/api-keys/${carol.id}`, undefined],
        ['GET', '/api/v1/audit', undefined],
      ] as const) {
        const res = await h.call(method, path, { key, ...(body ? { body } : {}) });
        expect([res.status, res.json.error.code], `${method} ${path}`).toEqual([403, 'ADMIN_REQUIRED']);
      }
    }
    // Still live: bob's DELETE did nothing.
    expect((await h.call('GET', '/api/v1/agents', { key: carol.key })).status).toBe(200);
    // An admin key issued over the API may issue keys in turn.
    const dave = (await issue({ user: 'dave', admin: true })).json;
    expect((await issue({ user: 'erin' }, dave.key)).status).toBe(201);
  });

  it('validates the body strictly', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'INVALID_USER'],
      [{ user: '../etc' }, 'INVALID_USER'],
      [{ user: 'carol', admin: 'yes' }, 'INVALID_ADMIN'],
      [{ user: 'carol', expires_at: 'tomorrow' }, 'INVALID_EXPIRES_AT'],
      [{ user: 'carol', key: 'my-own-key-please' }, 'UNKNOWN_FIELD'],
    ];
    for (const [body, code] of cases) {
      const res = await issue(body);
      expect([res.status, res.json.error.code], JSON.stringify(body)).toEqual([400, code]);
    }
  });

  it('records issuing and revoking in the audit log, with the admin who did it', async () => {
    const made = (await issue({ user: 'frank' })).json;
    await h.call('DELETE', `/api/v1/api-keys/${made.id}`);
    const log = await h.call('GET', `/api/v1/audit?user=alice&limit=100`);
    expect(log.status).toBe(200);
    const about = log.json.entries.filter((e: { target: string }) => e.target === made.id);
    expect(about.map((e: { action: string }) => e.action)).toEqual(['api_key.revoked', 'api_key.issued']);
    expect(about[1]).toMatchObject({
      actor: { user_id: 'alice', key_id: 'bootstrap' },
      details: { user: 'frank', admin: false },
    });
    expect(log.text).not.toContain(made.key);
  });
});
