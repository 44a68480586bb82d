import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSessionRig, type K8sSessionRig } from '../test-support/k8s-session-rig.js';
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
  let rig: K8sSessionRig;
  beforeAll(async () => {
    rig = await startK8sSessionRig({ apiKey: KEY, parked: true });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('reaps the idle pod, parks the agent, and the next message runs on a new pod that resumes the session', {
    timeout: 150_000,
  }, async () => {
    const { call, send, history, running, homes, key, store, pods } = rig;
    const parked = rig.parked!;
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
