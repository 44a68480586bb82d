import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { freePort } from '@forge/core/internal';
import { dialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteAgents, type RemoteAgents } from '../remote-agents.js';
import { ALICE_KEY, BOB_KEY, startApiHarness, testStore, type ApiHarness } from '../test-support/api-harness.js';
import { startHubApiHarness, type HubApiHarness } from '../test-support/hub-api-harness.js';

/** `POST /api/v1/remote-agents/tokens` against a real hub on loopback: an admin key gets a token that enrols. */
describe('POST /api/v1/remote-agents/tokens', () => {
  let hub: HubApiHarness;
  let api: ApiHarness;
  let remote: RemoteAgents;
  let scratch: string;

  beforeAll(async () => {
    hub = await startHubApiHarness('forge-platform-tokens-');
    ({ api, remote, scratch } = hub);
  });
  afterAll(() => hub?.close());

  it('issues a single-use token with the join command; an agent enrols with it, once', async () => {
    const res = await api.call('POST', '/api/v1/remote-agents/tokens', { body: { name: 'desk-1' } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: 'desk-1', hub_url: remote.url });
    expect(Date.parse(res.json.expires_at)).toBeGreaterThan(Date.now());
    expect(res.json.join_command).toBe(
      `FORGE_HUB_URL=${remote.url} FORGE_ENROLMENT_TOKEN=${res.json.token} FORGE_AGENT_NAME=desk-1 ` +
        'FORGE_PROVIDER=claude-code npx -y pnpm@10.34.8 --filter @forge/example-remote-agent start',
    );
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: res.json.token,
      credentialFile: join(scratch, 'desk-1.json'),
      name: 'desk-1',
      agent: scriptedAgent({ steps: sampleScript('hi') }),
    });
    try {
      await dialer.whenOnline();
      const listed = await api.call('GET', '/api/v1/remote-agents');
      expect(listed.json.agents).toMatchObject([{ name: 'desk-1', status: 'online' }]);
    } finally {
      await dialer.stop();
    }
    // Spent: with the name free again, a second agent with the same token is still refused.
    expect(await remote.revoke('desk-1')).toBeDefined();
    const again = dialHome({
      url: remote.url,
      enrolmentToken: res.json.token,
      credentialFile: join(scratch, 'desk-2.json'),
      name: 'desk-1',
      agent: scriptedAgent({ steps: sampleScript('hi') }),
    });
    await expect(again.whenOnline()).rejects.toMatchObject({ code: expect.stringMatching(/TOKEN/) });
    await again.stop();
  });

  it('refuses a key that is not an admin key with 403, and no key with 401', async () => {
    const bob = await api.call('POST', '/api/v1/remote-agents/tokens', { key: BOB_KEY, body: {} });
    expect(bob.status).toBe(403);
    expect(bob.json.error.code).toBe('ADMIN_REQUIRED');
    const none = await api.call('POST', '/api/v1/remote-agents/tokens', { key: null, body: {} });
    expect(none.status).toBe(401);
  });

  it('checks the body: unknown fields, bad names, out-of-range ttl', async () => {
    const typo = await api.call('POST', '/api/v1/remote-agents/tokens', { key: ALICE_KEY, body: { nmae: 'x' } });
    expect(typo.status).toBe(400);
    expect(typo.json.error.code).toBe('UNKNOWN_FIELD');
    expect(typo.json.error.message).toContain('did you mean "name"');
    const name = await api.call('POST', '/api/v1/remote-agents/tokens', { body: { name: '../etc' } });
    expect(name.json.error.code).toBe('INVALID_AGENT_NAME');
    const ttl = await api.call('POST', '/api/v1/remote-agents/tokens', { body: { ttl_ms: 5 } });
    expect(ttl.json.error.code).toBe('INVALID_TTL');
    const ok = await api.call('POST', '/api/v1/remote-agents/tokens', { body: { ttl_ms: 120_000 } });
    expect(ok.status).toBe(201);
    expect(ok.json.join_command).not.toContain('FORGE_AGENT_NAME');
  });
});

describe('POST /api/v1/remote-agents/tokens without a hub', () => {
  it('is 409 REMOTE_AGENTS_DISABLED for an admin', async () => {
    const api = await startApiHarness({ adminUsers: 'alice' });
    try {
      const res = await api.call('POST', '/api/v1/remote-agents/tokens', { body: {} });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('REMOTE_AGENTS_DISABLED');
    } finally {
      await api.close();
    }
  });
});

describe('a hub behind another address (FORGE_HUB_PUBLIC_URL)', () => {
  it('names that address in the token and join command, and an agent dialling it enrols', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'forge-platform-public-url-'));
    // Bound to 127.0.0.1; agents are told "localhost": a different address that reaches it, as a Service would.
    const port = await freePort();
    const remote = await startRemoteAgents({
      port,
      host: '127.0.0.1',
      secret: 'a-hub-secret-of-at-least-32-bytes-long!!',
      credentialStore: (await testStore()).credentials,
      publicUrl: `http://localhost:${port}`,
    });
    try {
      const issued = remote.issueToken({ name: 'behind-lb' });
      expect(remote.url).toBe(`http://localhost:${port}`);
      expect(issued.hub_url).toBe(`http://localhost:${port}`);
      expect(issued.join_command).toContain(`FORGE_HUB_URL=http://localhost:${port} `);
      const dialer = dialHome({
        url: issued.hub_url,
        enrolmentToken: issued.token,
        credentialFile: join(scratch, 'behind-lb.json'),
        name: 'behind-lb',
        agent: scriptedAgent({ steps: sampleScript('hi') }),
      });
      try {
        await dialer.whenOnline();
        expect(await remote.list()).toMatchObject([{ name: 'behind-lb', status: 'online' }]);
      } finally {
        await dialer.stop();
      }
    } finally {
      await remote.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
