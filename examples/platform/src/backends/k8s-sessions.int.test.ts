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
import { openStore, sqlSessionStore, type ForgeStore } from '@forge/store';
import { grpcAgent } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { loadConfig } from '../config.js';
import { apiClient } from '../test-support/api-harness.js';
import { startAgentPodProcess, type AgentPodProcess } from '../test-support/agent-pod-process.js';
import { fakePods } from './fake-pods.js';
import { k8sBackend } from './k8s-backend.js';

const KEY = 'k8s-sessions-alice-key-0123';

/**
 * A conversation outlives its pod: the platform in k8s mode (fake pods that run examples/agent-pod's program as
 * local processes, each with its own HOME — the pod's filesystem) serves the real Claude Code CLI against the
 * fake Messages API. After the first message the pod is replaced — stopped, its HOME removed, a new one started
 * with an empty HOME at a new address — and the second message resumes: the pod loads the session from the
 * platform's store over the run's gRPC stream, and the model sees the first turn.
 */
describe('k8s backend: sessions travel between the agent pod and the platform’s store', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let store: ForgeStore;
  let platform: Platform;
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
  const { manager: pods, pods: summaries } = fakePods({
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

  it('the second message, on a replaced pod with an empty HOME, resumes the first from the store', {
    timeout: 150_000,
  }, async () => {
    const created = await call('POST', '/api/v1/agents', { provider: 'claude-code' });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;
    const id = { userId: 'alice', agentId };
    const first = await send(agentId, { content: 'remember LYCHEE-58' });
    expect(first.status, running.get(key(id))?.log()).toBe('completed');
    const sessionId = first.result.sessionId as string;
    const stored = await sqlSessionStore(store.sql).load({ provider: 'claude-code', sessionId });
    expect(Buffer.concat(stored!.files.map((f) => f.data)).toString()).toContain('remember LYCHEE-58');

    // The pod is replaced: the old one stops and its filesystem is gone; the new one has an empty HOME.
    await running.get(key(id))!.stop();
    await rm(homes.get(key(id))!, { recursive: true, force: true });
    const { pod, home } = await startPod();
    running.set(key(id), pod);
    homes.set(key(id), home);
    const summary = summaries.get(key(id))!;
    Object.assign(summary, { address: pod.url, podIP: new URL(pod.url).hostname });

    const second = await send(agentId, { content: 'what should you remember?', session_id: sessionId });
    expect(second, pod.log()).toMatchObject({ status: 'completed', result: { sessionId } });
    expect(history()).toContain('remember LYCHEE-58');
    expect(history()).toContain('what should you remember?');
  });
});
