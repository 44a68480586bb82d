import { ValidationError } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { k8sBackend, type PodId, type PodLike, type PodManagerLike, type RemoteCodeAgent } from './k8s-backend.js';

/** An in-memory stand-in for @forge/k8s's pod manager: pods become ready when `waitForPodReady` is called. */
function fakePods(options: { failReady?: boolean } = {}) {
  const pods = new Map<string, PodLike & { id: PodId }>();
  const calls: string[] = [];
  let ip = 10;
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  const manager: PodManagerLike = {
    async createPod(id, opts) {
      calls.push(`create ${key(id)} ${opts?.env?.FORGE_PROVIDER}`);
      pods.set(key(id), {
        id,
        metadata: { name: `forge-${id.agentId}`, labels: { 'forge.dev/user': id.userId, 'forge.dev/agent': id.agentId }, annotations: opts?.annotations ?? {}, creationTimestamp: new Date(1_700_000_000_000 + ip).toISOString() },
        status: { phase: 'Pending' },
      });
    },
    async waitForPodReady(id) {
      if (options.failReady) throw new Error('ImagePullBackOff');
      const pod = pods.get(key(id))!;
      pod.status = { phase: 'Running', podIP: `10.0.0.${ip++}`, containerStatuses: [{ ready: true }] };
    },
    getPod: async (id) => pods.get(key(id)),
    async getPodAddress(id) {
      return `http://${pods.get(key(id))!.status!.podIP}:8080`;
    },
    listPods: async (userId) => [...pods.values()].filter((p) => p.id.userId === userId),
    async deletePod(id, opts) {
      calls.push(`delete ${key(id)} graceful=${opts?.graceful}`);
      pods.delete(key(id));
    },
  };
  return { manager, calls, pods };
}

function fakeConnect() {
  const made: Array<{ address: string; provider: string; closed: boolean; shutdown: boolean }> = [];
  const connect = (address: string, provider: string): RemoteCodeAgent => {
    const entry = { address, provider, closed: false, shutdown: false };
    made.push(entry);
    const inner = scriptedAgent({ provider, steps: [] });
    return {
      ...inner,
      provider,
      status: async () => ({ provider, runsInFlight: 0, draining: false }),
      shutdown: async () => void (entry.shutdown = true),
      close: async () => void (entry.closed = true),
    };
  };
  return { connect, made };
}

describe('k8sBackend (fake pod manager)', () => {
  it('creates a pod per agent, waits until ready, and reports it from Kubernetes', async () => {
    const { manager, calls } = fakePods();
    const { connect } = fakeConnect();
    const backend = k8sBackend({ pods: manager, connect, providers: ['claude-code', 'opencode'] });
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    expect(agent).toMatchObject({ userId: 'alice', provider: 'claude-code', phase: 'Running', ready: true, podName: `forge-${agent.agentId}`, podIp: '10.0.0.10' });
    expect(calls).toEqual([`create alice/${agent.agentId} claude-code`]);
    expect(await backend.get('alice', agent.agentId)).toMatchObject({ agentId: agent.agentId, provider: 'claude-code' });
    expect(await backend.get('bob', agent.agentId)).toBeUndefined();
    expect((await backend.list('alice')).map((a) => a.agentId)).toEqual([agent.agentId]);
    expect(await backend.list('bob')).toEqual([]);
  });

  it('refuses unknown providers, and deletes a pod that never became ready', async () => {
    const { manager, calls, pods } = fakePods({ failReady: true });
    const backend = k8sBackend({ pods: manager, connect: fakeConnect().connect, providers: ['claude-code'] });
    await expect(backend.create({ userId: 'alice', provider: 'nope', timeoutMs: 1000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 })).rejects.toThrow(/ImagePullBackOff/);
    expect(calls.at(-1)).toMatch(/^delete alice\/agt_\w+ graceful=false$/);
    expect(pods.size).toBe(0);
  });

  it('connects once per pod address, asks it for status on refresh, and shuts it down on a graceful delete', async () => {
    const { manager, calls } = fakePods();
    const { connect, made } = fakeConnect();
    const backend = k8sBackend({ pods: manager, connect, providers: ['opencode'] });
    const agent = await backend.create({ userId: 'alice', provider: 'opencode', timeoutMs: 1000 });
    const a1 = await backend.agentFor(agent);
    expect(await backend.agentFor(agent)).toBe(a1);
    expect(made).toMatchObject([{ address: 'http://10.0.0.10:8080', provider: 'opencode' }]);
    expect(await backend.status(agent)).toMatchObject({ reachable: true, provider: 'opencode', runsInFlight: 0, draining: false });
    expect(await backend.delete('alice', agent.agentId, { graceful: true })).toBe(true);
    expect(made[0]).toMatchObject({ shutdown: true, closed: true });
    expect(calls.at(-1)).toBe(`delete alice/${agent.agentId} graceful=true`);
    expect(await backend.delete('alice', agent.agentId)).toBe(false);
    await backend.close();
  });

  it('reports an agent that does not answer as unreachable, with the transport error', async () => {
    const { manager } = fakePods();
    const connect = (_address: string, provider: string): RemoteCodeAgent => ({
      ...scriptedAgent({ provider, steps: [] }),
      status: async () => {
        throw Object.assign(new Error('Could not reach the agent'), { code: 'UNAVAILABLE' });
      },
      close: async () => {},
    });
    const backend = k8sBackend({ pods: manager, connect, providers: ['claude-code'] });
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    expect(await backend.status(agent)).toEqual({ reachable: false, error: { code: 'UNAVAILABLE', message: 'Could not reach the agent' } });
    await backend.close();
  });

  it('reports pods that are starting or terminating as not ready', async () => {
    const { manager, pods } = fakePods();
    const backend = k8sBackend({ pods: manager, connect: fakeConnect().connect, providers: ['claude-code'] });
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    const pod = pods.get(`alice/${agent.agentId}`)!;
    pod.status = { phase: 'Pending' };
    expect(await backend.get('alice', agent.agentId)).toMatchObject({ phase: 'Pending', ready: false });
    pod.status = { phase: 'Running', podIP: '10.0.0.1', containerStatuses: [{ ready: true }] };
    pod.metadata!.deletionTimestamp = new Date().toISOString();
    expect(await backend.get('alice', agent.agentId)).toMatchObject({ phase: 'Terminating', ready: false });
  });
});
