import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claudeBinPath, fakeAnthropicEnv, startFakeAnthropicApi } from '@forge/claude-code/testing';
import type { PodId } from '@forge/k8s';
import { openStore, ParkedAgents, sqlSessionStore } from '@forge/store';
import { grpcAgent } from '@forge/transport-grpc';
import { expect } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform } from '../app.js';
import { fakePods } from '../backends/fake-pods.js';
import { k8sBackend } from '../backends/k8s-backend.js';
import { startAgentPodProcess, type AgentPodProcess } from './agent-pod-process.js';
import { apiClient } from './api-harness.js';
import { testConfig } from './test-config.js';

export interface K8sSessionRigOptions {
  /** Alice's API key. */
  apiKey: string;
  /** Give the backend a parked-agents table (what the pod reaper writes). */
  parked?: boolean;
}

/**
 * The platform in k8s mode whose fake pods run examples/agent-pod's program as local processes, each with its own
 * HOME (the pod's filesystem), serving the real Claude Code CLI against the fake Messages API (it answers
 * `Answer to: <last user text>`); the workspace is at one path in every pod (a volume mount), so the CLI files
 * sessions alike. Sessions are kept in the platform's store over each run's gRPC stream. For the tests of a
 * conversation outliving its pod (replaced or reaped).
 */
export async function startK8sSessionRig(options: K8sSessionRigOptions) {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-k8s-sessions-'));
  await mkdir(join(scratch, 'workspace'), { recursive: true });
  const running = new Map<string, AgentPodProcess>();
  const homes = new Map<string, string>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  let podCount = 0;
  const api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
  /** A new pod process with an empty HOME, at a new address. */
  const startPod = async () => {
    const home = join(scratch, `pod-${++podCount}-home`);
    await mkdir(home, { recursive: true });
    const pod = await startAgentPodProcess({
      ...fakeAnthropicEnv(api.url),
      HOME: home,
      PORT: '0',
      FORGE_PROVIDER: 'claude-code',
      FORGE_BIN: claudeBinPath(),
      FORGE_CWD: join(scratch, 'workspace'),
    });
    return { pod, home };
  };
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
  const store = await openStore({ dataDir: join(scratch, 'db') });
  const sessions = sqlSessionStore(store.sql);
  const parked = options.parked ? new ParkedAgents(store.sql) : undefined;
  const platform = await startPlatform({
    config: {
      ...testConfig(),
      backend: 'k8s' as const,
      port: 0,
      dataDir: scratch,
      apiKeys: parseApiKeyList(`alice:${options.apiKey}`),
      defaultProvider: 'claude-code',
    },
    store,
    backend: k8sBackend({
      pods,
      providers: ['claude-code'],
      connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider, sessionStore: sessions }),
      ...(parked ? { parked } : {}),
    }),
    pollMs: 50,
  });

  const call = (method: string, path: string, body?: unknown) =>
    apiClient(platform.url, options.apiKey)(method, path, body !== undefined ? { body } : {});
  return {
    api,
    store,
    platform,
    pods,
    summaries,
    parked,
    running,
    homes,
    key,
    startPod,
    call,
    /** Sends a message and waits for its run to end; the run's JSON. */
    async send(agentId: string, body: Record<string, unknown>) {
      const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, body);
      expect(sent.status).toBe(202);
      for (;;) {
        const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`);
        if (['completed', 'failed', 'cancelled', 'timed_out'].includes(run.json.status)) return run.json;
        await sleep(50);
      }
    },
    /** The messages the model saw in its latest turn, as JSON text. */
    history: () => JSON.stringify(api.requests.filter((r) => r.path.includes('/messages')).at(-1)!.body.messages),
    async close() {
      await platform.close();
      await Promise.all([...running.values()].map((p) => p.stop()));
      await store.close();
      await api.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export type K8sSessionRig = Awaited<ReturnType<typeof startK8sSessionRig>>;
