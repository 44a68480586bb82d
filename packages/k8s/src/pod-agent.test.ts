import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPodManager } from './pod-manager.js';
import { podAgent } from './pod-agent.js';
import { FakeKubeApi, podStatus } from './test-support/fake-kube-api.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const id = { userId: 'alice', agentId: 'main' };

function setup() {
  const api = new FakeKubeApi();
  server.use(...api.handlers());
  const pods = createPodManager({ kubeConfig: api.kubeConfig(), template: { image: 'img', agentPort: 7000 } });
  return { api, pods };
}

describe('podAgent', () => {
  it('creates the pod, waits for it and builds the agent for its address', async () => {
    const { api, pods } = setup();
    api.onWatch = () => api.update(pods.podName(id), (p) => (p.status = podStatus.ready('10.0.0.9')));
    const built = await podAgent(pods, id, (address, pod) => ({ address, name: pod.name }));
    expect(built).toEqual({ address: 'http://10.0.0.9:7000', name: pods.podName(id) });
    expect(api.pods.size).toBe(1);
  });

  it('reuses an existing pod', async () => {
    const { api, pods } = setup();
    await pods.createPod(id);
    api.update(pods.podName(id), (p) => (p.status = podStatus.ready()));
    await expect(podAgent(pods, id, (address) => address)).resolves.toBe('http://10.0.0.7:7000');
    expect(api.pods.size).toBe(1);
  });

  it('without create or wait, only resolves the address (typed error when there is none)', async () => {
    const { api, pods } = setup();
    await expect(podAgent(pods, id, (a) => a, { create: false, waitForReady: false })).rejects.toMatchObject({
      code: 'K8S_NOT_FOUND',
    });
    await pods.createPod(id);
    await expect(podAgent(pods, id, (a) => a, { create: false, waitForReady: false })).rejects.toMatchObject({
      code: 'POD_NO_ADDRESS',
    });
    api.update(pods.podName(id), (p) => (p.status = podStatus.ready('10.0.0.8')));
    const reads = () =>
      api.calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/pods/${pods.podName(id)}`)).length;
    const before = reads();
    await expect(
      podAgent(pods, id, (a, pod) => [a, pod.ready], { create: false, waitForReady: false }),
    ).resolves.toEqual(['http://10.0.0.8:7000', true]);
    expect(reads() - before).toBe(1);
    expect(api.watches).toHaveLength(0);
  });

  it('propagates a failed pod as its typed error', async () => {
    const { api, pods } = setup();
    api.onWatch = () => api.update(pods.podName(id), (p) => (p.status = podStatus.waiting('ImagePullBackOff')));
    await expect(podAgent(pods, id, (a) => a)).rejects.toMatchObject({ code: 'POD_IMAGE_PULL' });
  });
});
