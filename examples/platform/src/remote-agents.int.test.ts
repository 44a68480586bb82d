import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { apiClient } from './test-support/api-harness.js';
import { testConfig } from './test-support/test-config.js';

const KEY = 'remote-key-0123456789';
const USER_KEY = 'remote-user-key-0123456789';

/** The platform with its dial-home hub: an agent dials in over loopback HTTP/2 and is listed online, then offline. */
describe('remote agents (dial-home hub)', () => {
  let platform: Platform;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-remote-'));
    const registry = createProviderRegistry();
    registry.register('scripted', scriptedAgent({ steps: sampleScript() }));
    const config = {
      ...testConfig(),
      port: 0,
      dataDir: join(scratch, 'data'),
      // alice operates the platform; bob only uses it.
      apiKeys: parseApiKeyList(`alice:${KEY},bob:${USER_KEY}`).map((k) => ({ ...k, admin: k.userId === 'alice' })),
      defaultProvider: 'scripted',
      hubPort: 0,
      hubSecret: 'a-hub-secret-of-at-least-32-bytes-long!!',
    };
    platform = await startPlatform({ config, registry });
  });
  afterAll(async () => {
    await platform?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const list = async () => {
    const res = await fetch(`${platform.url}/api/v1/remote-agents`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { enabled: boolean; agents: Array<Record<string, unknown>> };
  };

  it('lists enrolled agents with their online status and last-seen time', async () => {
    expect(await list()).toEqual({ enabled: true, agents: [] });
    const remote = platform.remote!;
    const token = remote.hub.issueEnrolmentToken({ name: 'laptop-1' });
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: token.token,
      credentialFile: join(scratch, 'laptop-1.json'),
      name: 'laptop-1',
      agent: scriptedAgent({ steps: sampleScript('from afar') }),
    });
    try {
      await dialer.whenOnline();
      const online = await list();
      expect(online.agents).toMatchObject([
        { id: dialer.agentId, name: 'laptop-1', status: 'online', provider: 'scripted' },
      ]);
      expect(new Date(String(online.agents[0]!.last_seen)).getTime()).toBeGreaterThan(0);
    } finally {
      await dialer.stop();
    }
    // The hub notices the session end; poll the API rather than sleep a fixed time.
    let status: unknown;
    for (let i = 0; i < 200 && status !== 'offline'; i++) {
      status = (await list()).agents[0]?.status;
      if (status !== 'offline') await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe('offline');
  });

  it('runs a message on a remote agent: a user agent with the remote agent as its provider; offline, the run fails AGENT_OFFLINE', async () => {
    const remote = platform.remote!;
    const call = apiClient(platform.url, USER_KEY);
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: remote.hub.issueEnrolmentToken({ name: 'laptop-3' }).token,
      credentialFile: join(scratch, 'laptop-3.json'),
      name: 'laptop-3',
      agent: scriptedAgent({ steps: sampleScript('from afar') }),
    });
    try {
      await dialer.whenOnline();
      const created = await call('POST', '/api/v1/agents', { body: { provider: 'laptop-3' } });
      expect(created.status).toBe(201);
      const agentId = created.json.agent_id as string;
      const done = async (requestId: string) => {
        for (;;) {
          const run = (await call('GET', `/api/v1/agents/${agentId}/runs/${requestId}`)).json;
          if (!['queued', 'running'].includes(run.status)) return run;
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hello' } });
      expect(sent.status).toBe(202);
      expect(await done(sent.json.request_id)).toMatchObject({ status: 'completed', result: { text: 'from afar' } });
      await dialer.stop();
      const away = await call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'anyone?' } });
      expect(await done(away.json.request_id)).toMatchObject({
        status: 'failed',
        error: { code: 'AGENT_OFFLINE', retryable: true },
      });
    } finally {
      await dialer.stop();
    }
  });

  it('DELETE /api/v1/remote-agents/:name revokes at once: the live session ends and the agent cannot come back', async () => {
    const remote = platform.remote!;
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: remote.hub.issueEnrolmentToken({ name: 'laptop-2' }).token,
      credentialFile: join(scratch, 'laptop-2.json'),
      name: 'laptop-2',
      agent: scriptedAgent({ steps: [{ type: 'message', text: 'working' }, { hang: true }] }),
    });
    const auth = { authorization: `Bearer ${KEY}` };
    try {
      await dialer.whenOnline();
      const byUser = await fetch(`${platform.url}/api/v1/remote-agents/laptop-2`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${USER_KEY}` },
      });
      expect(byUser.status).toBe(403);
      expect(await byUser.json()).toMatchObject({ error: { code: 'ADMIN_REQUIRED' } });
      // Heartbeats are 30 s apart here: no message of the agent's will carry the refusal, the DELETE itself must.
      const res = await fetch(`${platform.url}/api/v1/remote-agents/laptop-2`, { method: 'DELETE', headers: auth });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ revoked: true, agent: { id: dialer.agentId, name: 'laptop-2' } });
      await dialer.done;
      expect(dialer.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
      expect((await list()).agents.map((a) => a.name)).not.toContain('laptop-2');
      const again = dialHome({
        url: remote.url,
        credentialFile: join(scratch, 'laptop-2.json'),
        name: 'laptop-2',
        agent: scriptedAgent({ steps: sampleScript() }),
      });
      await expect(again.whenOnline()).rejects.toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
      const gone = await fetch(`${platform.url}/api/v1/remote-agents/laptop-2`, { method: 'DELETE', headers: auth });
      expect(gone.status).toBe(404);
      expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('REMOTE_AGENT_NOT_FOUND');
      const anonymous = await fetch(`${platform.url}/api/v1/remote-agents/laptop-1`, { method: 'DELETE' });
      expect(anonymous.status).toBe(401);
    } finally {
      await dialer.stop();
    }
  });
});
