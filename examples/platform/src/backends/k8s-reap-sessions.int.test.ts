import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { PodId } from '@forge/k8s';
import { openStore, ParkedAgents, sqlSessionStore, type ForgeStore } from '@forge/store';
import { grpcAgent } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { loadConfig } from '../config.js';
import { apiClient } from '../test-support/api-harness.js';
import { startAgentPodProcess, type AgentPodProcess } from '../test-support/agent-pod-process.js';
import { fakePods } from './fake-pods.js';
import { k8sBackend } from './k8s-backend.js';
import { storeActivity } from './k8s-from-config.js';
import { PodReaper } from './k8s-pod-reaper.js';

const KEY = 'k8s-reap-alice-key-0123456';

/**
 * An idle agent's pod is reaped and the conversation goes on: the platform in k8s mode (fake pods that run
 * examples/agent-pod's program as local processes, each with its own HOME) serves the real Claude Code CLI against
 * the fake Messages API. After the first message the reaper (FORGE_K8S_IDLE_TTL passed) removes the pod and parks
 * the agent; the second message makes a new pod (an empty HOME, a new address), which loads the session from the
 * platform's store, and the model sees the first turn.
 */
describe('k8s backend: an idle agent’s pod reaped, the next message makes a new one and continues the conversation', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let store: ForgeStore;
  let platform: Platform;
  let parked: ParkedAgents;
  const running = new Map<string, AgentPodProcess>();
  let podCount = 0;
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  const startPod = async () => {
    const home = join(scratch, `pod-${++podCount}-home`);
    await mkdir(home, { recursive: true });
    const pod = await startAgentPodProcess({
      ...fakeAnthropicEnv(api.url),
      HOME: home,
      PORT: '0',
      FORGE_PROVIDER: 'claude-code',
      FORGE_BIN: claudeBinPath(),
      // The workspace is at the same path in every pod (a volume mount): the CLI files sessions by its path.
      FORGE_CWD: join(scratch, 'workspace'),
    });
    return { pod, home };
  };
  const homes = new Map<string, string>();
  const { manager: pods } = fakePods({
    start: async (id) => {
      const { pod, home } = await startPod();
      running.set(key(id), pod);
      homes.set(key(id), home);
      return pod.url;
    },
    stop: async (id) => {
      await running.get(key(id))?.stop();
      running.delete(key(id));
    },
  });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-k8s-sessions-'));
    await mkdir(join(scratch, 'workspace'), { recursive: true });
    api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
    store = await openStore({ dataDir: join(scratch, 'db') });
    const sessions = sqlSessionStore(store.sql);
    parked = new ParkedAgents(store.sql);
    platform = await startPlatform({
      config: {
        ...loadConfig([], {}),
        backend: 'k8s' as const,
        port: 0,
        dataDir: scratch,
        apiKeys: parseApiKeyList(`alice:${KEY}`),
        defaultProvider: 'claude-code',
      },
      store,
      backend: k8sBackend({
        pods,
        providers: ['claude-code'],
        connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider, sessionStore: sessions }),
        parked,
      }),
      pollMs: 50,
    });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([...running.values()].map((p) => p.stop()));
    await store?.close();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown) =>
    apiClient(platform.url, KEY)(method, path, body !== undefined ? { body } : {});
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

  it('reaps the idle pod, parks the agent, and the next message runs on a new pod that resumes the session', {
    timeout: 150_000,
  }, async () => {
    const created = await call('POST', '/api/v1/agents', { provider: 'claude-code' });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;
    const id = { userId: 'alice', agentId };
    const first = await send(agentId, { content: 'remember LYCHEE-58' });
    expect(first.status, running.get(key(id))?.log()).toBe('completed');
    const sessionId = first.result.sessionId as string;
    const firstPod = running.get(key(id))!;

    // Two hours without a run (the reaper's clock): the pod goes, the agent is parked and still listed.
    const reaper = new PodReaper({
      pods,
      parked,
      activity: storeActivity(store),
      idleTtlMs: 3_600_000,
      intervalMs: 60_000,
      now: () => Date.now() + 2 * 3_600_000,
    });
    expect((await reaper.sweep()).reaped.map((p) => p.agentId)).toEqual([agentId]);
    expect(running.has(key(id))).toBe(false);
    expect((await call('GET', `/api/v1/agents/${agentId}`)).json).toMatchObject({ phase: 'Idle', ready: true });

    const second = await send(agentId, { content: 'what should you remember?', session_id: sessionId });
    const secondPod = running.get(key(id))!;
    expect(second, secondPod?.log()).toMatchObject({ status: 'completed', result: { sessionId } });
    expect(secondPod).not.toBe(firstPod);
    expect(homes.get(key(id))).toMatch(/pod-2-home$/);
    expect(history()).toContain('remember LYCHEE-58');
    expect(history()).toContain('what should you remember?');
    expect((await call('GET', `/api/v1/agents/${agentId}`)).json).toMatchObject({ phase: 'Running' });
    expect(await parked.get('alice', agentId)).toBeUndefined();
    await reaper.close();
  });
});
