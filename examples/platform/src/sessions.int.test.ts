import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { apiClient } from './test-support/api-harness.js';
import { testConfig } from './test-support/test-config.js';

const KEY = 'sessions-alice-key-123456';
const BOB = 'sessions-bob-key-1234567';

/**
 * A conversation outlives the platform instance that ran it: the real platform (its own provider registry, so
 * claude-code keeps sessions in the store's `sqlSessionStore`) runs the real Claude Code CLI against the fake
 * Anthropic API; the instance closes and its agents' HOME is removed; a second instance on the same data dir
 * (the same PGlite database, another HOME) continues the conversation and the model sees the earlier turn.
 */
describe('platform sessions: a conversation moves to another instance', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let platform: Platform | undefined;

  const start = (home: string) =>
    startPlatform({
      config: {
        ...testConfig(),
        port: 0,
        dataDir: join(scratch, 'data'),
        apiKeys: parseApiKeyList(`alice:${KEY},bob:${BOB}`),
        claudeBin: claudeBinPath(),
        defaultProvider: 'claude-code',
      },
      claudeEnv: { ...fakeAnthropicEnv(api.url), HOME: home },
      pollMs: 50,
    });
  const call = (method: string, path: string, body?: unknown, key = KEY) =>
    apiClient(platform!.url, KEY)(method, path, { key, ...(body !== undefined ? { body } : {}) });
  const send = async (agentId: string, body: Record<string, unknown>) => {
    const sent = await call('POST', `/api/v1/agents/${agentId}/messages?user_id=alice`, body);
    expect(sent.status).toBe(202);
    for (;;) {
      const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}?user_id=alice`);
      if (['completed', 'failed', 'cancelled'].includes(run.json.status)) return run.json;
      await sleep(50);
    }
  };
  const history = () => JSON.stringify(api.requests.filter((r) => r.path.includes('/messages')).at(-1)!.body.messages);

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-sessions-'));
    api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
  });
  afterAll(async () => {
    await platform?.close();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the second message, on a fresh instance and HOME, resumes the first; the agent lists its sessions and forks one', {
    // Four CLI turns and two platform starts: 43 s at load average 40 on 2 cores, over vitest's default 30 s.
    timeout: 150_000,
  }, async () => {
    const homeA = join(scratch, 'home-a');
    platform = await start(homeA);
    const created = await call('POST', '/api/v1/agents', { owner_id: 'alice', provider: 'claude-code' });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;
    const first = await send(agentId, { content: 'remember PAPAYA-42' });
    expect(first.status).toBe('completed');
    const sessionId = first.result.sessionId as string;
    await platform.close();
    platform = undefined;
    await rm(homeA, { recursive: true, force: true });

    platform = await start(join(scratch, 'home-b'));
    const second = await send(agentId, { content: 'what should you remember?', session_id: sessionId });
    expect(second).toMatchObject({ status: 'completed', result: { sessionId } });
    expect(history()).toContain('remember PAPAYA-42');
    expect(history()).toContain('what should you remember?');

    const listed = await call('GET', `/api/v1/agents/${agentId}/sessions?user_id=alice`);
    expect(listed.status).toBe(200);
    expect(listed.json.sessions).toEqual([
      expect.objectContaining({ session_id: sessionId, provider: 'claude-code', title: 'remember PAPAYA-42' }),
    ]);
    expect(listed.json.sessions[0].size).toBeGreaterThan(0);
    expect((await call('GET', `/api/v1/agents/${agentId}/sessions?user_id=bob`, undefined, BOB)).status).toBe(404);

    // A fork is a new conversation with the old one's history; the original is left as it was.
    const forked = await send(agentId, { content: 'forked: what was it?', session_id: sessionId, fork: true });
    expect(forked.status).toBe('completed');
    expect(forked.result.sessionId).not.toBe(sessionId);
    expect(history()).toContain('remember PAPAYA-42');
    const both = await call('GET', `/api/v1/agents/${agentId}/sessions?user_id=alice`);
    expect(both.json.sessions.map((s: { session_id: string }) => s.session_id).sort()).toEqual(
      [sessionId, forked.result.sessionId].sort(),
    );
    const again = await send(agentId, { content: 'original again', session_id: sessionId });
    expect(again.status).toBe('completed');
    expect(history()).not.toContain('forked: what was it?');
  });
});
