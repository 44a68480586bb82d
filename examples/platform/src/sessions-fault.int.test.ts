import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeAnthropicApi, type FakeAnthropicApi } from '@forge/claude-code/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';

const KEY = 'sessions-fault-alice-key-1234';

/**
 * The platform's fault test for sessions: the replica that ran the first message of a conversation is killed with
 * SIGKILL (no close, no flush), and the agent's HOME and work directory are removed; a new replica on the same
 * database, with a fresh HOME and an empty workspace, takes the second message — which resumes the conversation
 * from the store, the first turn in the request to the model.
 */
describe('platform sessions survive kill -9 of the replica and the loss of the agent’s files', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let platform: PlatformProcess | undefined;

  const start = (home: string) =>
    startPlatformProcess(
      {
        FORGE_API_KEYS: `alice:${KEY}`,
        FORGE_DATA_DIR: join(scratch, 'data'),
        FORGE_PORT: '0',
        FORGE_TEST_ANTHROPIC_URL: api.url,
        FORGE_TEST_AGENT_HOME: home,
      },
      'src/test-support/session-platform.ts',
    );
  const call = (method: string, path: string, body?: unknown) =>
    apiClient(platform!.url, KEY)(method, path, body !== undefined ? { body } : {});
  const send = async (agentId: string, body: Record<string, unknown>) => {
    const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, body);
    expect(sent.status).toBe(202);
    for (;;) {
      const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`);
      if (['completed', 'failed', 'cancelled', 'timed_out'].includes(run.json.status)) return run.json;
      await sleep(50);
    }
  };
  const history = () => JSON.stringify(api.requests.filter((r) => r.path.includes('/messages')).at(-1)!.body.messages);

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-sessions-fault-'));
    api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
  });
  afterAll(async () => {
    await platform?.stop();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });

  it('the second message, on a new replica with a fresh HOME and an empty workspace, has the first turn in its history', {
    timeout: 150_000,
  }, async () => {
    const homeA = join(scratch, 'home-a');
    await mkdir(homeA, { recursive: true });
    platform = await start(homeA);
    const created = await call('POST', '/api/v1/agents', { provider: 'claude-code' });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;
    const first = await send(agentId, { content: 'remember GUAVA-93' });
    expect(first.status, platform.log()).toBe('completed');
    const sessionId = first.result.sessionId as string;

    await platform.kill9();
    platform = undefined;
    // The CLI that kill -9 orphaned sees its stdin close and exits, but may still be writing its HOME as it goes.
    await rm(homeA, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    // The agent's work directory, emptied as on a new machine (the platform keeps the directory itself).
    const workspace = join(scratch, 'data', 'alice', agentId, 'workspace');
    for (const entry of await readdir(workspace)) await rm(join(workspace, entry), { recursive: true, force: true });
    // What kill -9 left of the CLI (a warm process) must not be what answers: it is gone with its HOME.
    const homeB = join(scratch, 'home-b');
    await mkdir(homeB, { recursive: true });

    platform = await start(homeB);
    const second = await send(agentId, { content: 'what should you remember?', session_id: sessionId });
    expect(second, platform.log()).toMatchObject({ status: 'completed', result: { sessionId } });
    expect(history()).toContain('remember GUAVA-93');
    expect(history()).toContain('what should you remember?');
  });
});
