import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPodManager } from './pod-manager.js';
import { FakeKubeApi } from './test-support/fake-kube-api.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const alice = { userId: 'alice', agentId: 'main' };

function setup() {
  const api = new FakeKubeApi();
  server.use(...api.handlers());
  const pods = createPodManager({ kubeConfig: api.kubeConfig(), template: { image: 'forge-agent-pod:test' } });
  return { api, pods };
}

async function take(lines: AsyncIterable<string>, n: number): Promise<string[]> {
  const got: string[] = [];
  for await (const line of lines) {
    got.push(line);
    if (got.length === n) break;
  }
  return got;
}

describe('podLogs (client-node Log against the pods/log API)', () => {
  it('reads the last lines of the agent container, asking the API server for tailLines', async () => {
    const { api, pods } = setup();
    const pod = await pods.createPod(alice);
    api.log(pod.name, 'one', 'two', 'three');
    const got: string[] = [];
    for await (const line of pods.podLogs(alice, { tail: 2 })) got.push(line);
    expect(got).toEqual(['two', 'three']);
    const call = api.calls.find((c) => c.path.endsWith('/log'))!;
    expect(call.path).toBe(`/api/v1/namespaces/agents/pods/${pod.name}/log`);
    expect(call.query.get('tailLines')).toBe('2');
    expect(call.query.get('container')).toBe('agent');
    expect(call.query.get('follow')).toBe('false');
    // tail 0 without follow asks nothing.
    const none: string[] = [];
    for await (const line of pods.podLogs(alice, { tail: 0 })) none.push(line);
    expect(none).toEqual([]);
  });

  it('follows: new lines come as the pod writes them, and an abort ends the stream', async () => {
    const { api, pods } = setup();
    const pod = await pods.createPod(alice);
    api.log(pod.name, 'old');
    const controller = new AbortController();
    const lines = pods.podLogs(alice, { tail: 1, follow: true, signal: controller.signal });
    const iterator = lines[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('old');
    const next = iterator.next();
    api.log(pod.name, 'new');
    expect((await next).value).toBe('new');
    const after = iterator.next();
    controller.abort();
    expect((await after).done).toBe(true);
    expect(api.calls.find((c) => c.path.endsWith('/log'))!.query.get('follow')).toBe('true');
  });

  it('is K8S_NOT_FOUND for a pod that does not exist', async () => {
    const { pods } = setup();
    await expect(take(pods.podLogs(alice, {}), 1)).rejects.toMatchObject({ code: 'K8S_NOT_FOUND' });
  });
});
