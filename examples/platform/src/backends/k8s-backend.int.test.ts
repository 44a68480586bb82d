import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent } from '@forge/core';
import { grpcAgent, serveAgent, type AgentServer } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { PERMISSION_ID, QUESTION_ID, scriptedDemoAgent } from '../providers/scripted-demo.js';
import { apiClient, readSse } from '../test-support/api-harness.js';
import type { PodId } from '@forge/k8s';
import { fakePods } from './fake-pods.js';
import { k8sBackend } from './k8s-backend.js';
import { testConfig } from '../test-support/test-config.js';

const KEY = 'k8s-alice-key-0123456';

/**
 * The platform in k8s mode without a cluster: the pod manager is a stand-in whose "pods" are real
 * gRPC agent servers (serveAgent, as in examples/agent-pod) on 127.0.0.1, reached with the real
 * grpcAgent — so create → message → events → permission reply → question answer → interrupt → delete cross the wire.
 */
describe('k8s backend over real gRPC (pods are local agent servers)', () => {
  let platform: Platform;
  let scratch: string;
  const servers = new Map<string, AgentServer>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  const { manager: pods } = fakePods({
    start: async (id) => {
      const server = await serveAgent(scriptedDemoAgent({ delayMs: 5 }), { port: 0 });
      servers.set(key(id), server);
      return server.url;
    },
    stop: async (id) => {
      await servers.get(key(id))?.close({ graceful: false });
      servers.delete(key(id));
    },
  });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-k8s-'));
    const config = {
      ...testConfig(),
      backend: 'k8s' as const,
      port: 0,
      dataDir: scratch,
      apiKeys: parseApiKeyList(`alice:${KEY}`),
      defaultProvider: 'scripted',
    };
    const backend = k8sBackend({
      pods,
      providers: ['scripted'],
      connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider }),
    });
    platform = await startPlatform({ config, backend });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([...servers.values()].map((s) => s.close({ graceful: false })));
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown) =>
    apiClient(platform.url, KEY)(method, path, body !== undefined ? { body } : {});
  const stream = (agentId: string, requestId: string) =>
    fetch(`${platform.url}/api/v1/agents/${agentId}/events?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });

  it('creates a pod-backed agent, runs a message over gRPC, answers a permission and a question, interrupts, and deletes', async () => {
    const created = await call('POST', '/api/v1/agents', { provider: 'scripted' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      provider: 'scripted',
      phase: 'Running',
      ready: true,
      state: 'ready',
      pod_ip: '127.0.0.1',
    });
    const agentId = created.json.agent_id as string;
    expect(created.json.pod_name).toBe(`forge-${agentId}`);
    expect(servers.size).toBe(1);

    const refreshed = await call('GET', `/api/v1/agents/${agentId}?refresh=true`);
    expect(refreshed.json.live_status).toMatchObject({
      reachable: true,
      provider: 'scripted',
      runs_in_flight: 0,
      draining: false,
    });

    // A permission request crosses gRPC both ways.
    const asked = await call('POST', `/api/v1/agents/${agentId}/messages`, { content: 'ask permission please' });
    expect(asked.status).toBe(202);
    const first = stream(agentId, asked.json.request_id);
    const live = () => platform.runs.local(asked.json.request_id);
    while (!live()?.pendingPermissions.has(PERMISSION_ID)) await new Promise((r) => setTimeout(r, 5));
    expect(
      (await call('POST', `/api/v1/agents/${agentId}/permissions/${PERMISSION_ID}`, { decision: 'allow' })).status,
    ).toBe(200);
    const events = (await readSse(await first)) as AgentEvent[];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: 'permission allow' });
    expect(events.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'completed', text: 'You said: ask permission please' },
    });

    // So does a question: the event arrives over gRPC, the answer goes back as a question_answer command.
    const questioned = await call('POST', `/api/v1/agents/${agentId}/messages`, { content: 'a question please' });
    const third = stream(agentId, questioned.json.request_id);
    const waitingOn = () => platform.runs.local(questioned.json.request_id);
    while (!waitingOn()?.pendingQuestions.has(QUESTION_ID)) await new Promise((r) => setTimeout(r, 5));
    expect(
      (await call('POST', `/api/v1/agents/${agentId}/questions/${QUESTION_ID}`, { answers: [['Red']] })).status,
    ).toBe(200);
    const answered = (await readSse(await third)) as AgentEvent[];
    expect(answered.find((e) => e.type === 'question.requested')).toMatchObject({ id: QUESTION_ID });
    expect(answered.find((e) => e.type === 'tool.result')).toMatchObject({ output: { answers: [['Red']] } });
    expect(answered.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });

    // Interrupt mid-run.
    const waiting = await call('POST', `/api/v1/agents/${agentId}/messages`, { content: 'wait for me' });
    const second = stream(agentId, waiting.json.request_id);
    const stopped = await call('POST', `/api/v1/agents/${agentId}/interrupt`);
    expect(stopped.json.interrupted).toEqual([{ request_id: waiting.json.request_id, status: 'cancelled' }]);
    expect(((await readSse(await second)) as AgentEvent[]).at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'cancelled' },
    });

    expect((await call('GET', '/api/v1/agents')).json.agents.map((a: { agent_id: string }) => a.agent_id)).toEqual([
      agentId,
    ]);
    expect((await call('DELETE', `/api/v1/agents/${agentId}?graceful=true`)).json).toMatchObject({ deleted: true });
    expect(servers.size).toBe(0);
    expect((await call('GET', `/api/v1/agents/${agentId}`)).status).toBe(404);
  });
});
