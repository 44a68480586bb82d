import { ValidationError } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { fakePods } from './fake-pods.js';
import { k8sBackend, type RemoteCodeAgent } from './k8s-backend.js';

function fakeConnect() {
  const made: Array<{ address: string; provider: string; closed: boolean }> = [];
  const connect = (address: string, provider: string): RemoteCodeAgent => {
    const entry = { address, provider, closed: false };
    made.push(entry);
    return {
      ...scriptedAgent({ provider, steps: [] }),
      provider,
      status: async () => ({ provider, runsInFlight: 0, draining: false }),
      close: async () => void (entry.closed = true),
    };
  };
  return { connect, made };
}

describe('k8sBackend (stand-in pod manager)', () => {
  it('creates a pod per agent, waits until ready, and reports it from Kubernetes', async () => {
    const { manager, calls } = fakePods();
    const backend = k8sBackend({
      pods: manager,
      connect: fakeConnect().connect,
      providers: ['claude-code', 'opencode'],
    });
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    expect(agent).toMatchObject({
      userId: 'alice',
      provider: 'claude-code',
      phase: 'Running',
      ready: true,
      podName: `forge-${agent.agentId}`,
      podIp: '10.0.0.10',
    });
    expect(calls).toEqual([`create alice/${agent.agentId} claude-code`]);
    expect(await backend.get('alice', agent.agentId)).toMatchObject({
      agentId: agent.agentId,
      provider: 'claude-code',
    });
    expect(await backend.get('bob', agent.agentId)).toBeUndefined();
    expect((await backend.list('alice')).map((a) => a.agentId)).toEqual([agent.agentId]);
    expect(await backend.list('bob')).toEqual([]);
  });

  it('refuses unknown providers, and deletes a pod that never became ready', async () => {
    const { manager, calls, pods } = fakePods({ failReady: new Error('ImagePullBackOff') });
    const backend = k8sBackend({ pods: manager, connect: fakeConnect().connect, providers: ['claude-code'] });
    await expect(backend.create({ userId: 'alice', provider: 'nope', timeoutMs: 1000 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 })).rejects.toThrow(
      /ImagePullBackOff/,
    );
    expect(calls.at(-1)).toMatch(/^delete alice\/agt_\w+ graceful=false$/);
    expect(pods.size).toBe(0);
  });

  it('connects once per pod address, asks the agent for its status, and closes the connection on delete', async () => {
    const { manager, calls } = fakePods();
    const { connect, made } = fakeConnect();
    const backend = k8sBackend({ pods: manager, connect, providers: ['opencode'] });
    const agent = await backend.create({ userId: 'alice', provider: 'opencode', timeoutMs: 1000 });
    const a1 = await backend.agentFor(agent);
    expect(await backend.agentFor(agent)).toBe(a1);
    expect(made).toMatchObject([{ address: 'http://10.0.0.10:8080', provider: 'opencode' }]);
    expect(await backend.status(agent)).toMatchObject({
      reachable: true,
      provider: 'opencode',
      runsInFlight: 0,
      draining: false,
    });
    expect(await backend.delete('alice', agent.agentId, { graceful: true })).toBe(true);
    expect(made[0]).toMatchObject({ closed: true });
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
    expect(await backend.status(agent)).toEqual({
      reachable: false,
      error: { code: 'UNAVAILABLE', message: 'Could not reach the agent' },
    });
    await backend.close();
  });

  it('reports pods that are starting or terminating as not ready', async () => {
    const { manager, pods } = fakePods();
    const backend = k8sBackend({ pods: manager, connect: fakeConnect().connect, providers: ['claude-code'] });
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    const pod = pods.get(`alice/${agent.agentId}`)!;
    Object.assign(pod, { phase: 'Pending', ready: false });
    expect(await backend.get('alice', agent.agentId)).toMatchObject({ phase: 'Pending', ready: false });
    Object.assign(pod, { phase: 'Running', ready: true, deletingSince: new Date() });
    expect(await backend.get('alice', agent.agentId)).toMatchObject({ phase: 'Terminating', ready: false });
  });
});
