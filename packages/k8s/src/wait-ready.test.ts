import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesError } from './errors.js';
import { createPodManager, type PodManager } from './pod-manager.js';
import { FakeKubeApi, podStatus, trackingWatch } from './test-support/fake-kube-api.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const id = { userId: 'alice', agentId: 'main' };

let watch: ReturnType<typeof trackingWatch>;

async function setup(): Promise<{ api: FakeKubeApi; pods: PodManager; name: string }> {
  const api = new FakeKubeApi();
  server.use(...api.handlers());
  const kubeConfig = api.kubeConfig();
  watch = trackingWatch(kubeConfig);
  // sleep is injected so that retries after a failed watch do not wait for real.
  const pods = createPodManager({ kubeConfig, template: { image: 'img' } }, { watch, sleep: async () => {} });
  await pods.createPod(id);
  return { api, pods, name: pods.podName(id) };
}

/** No watch may outlive a wait: every watch the wait started has been aborted. */
async function expectNoOpenWatch(_api: FakeKubeApi) {
  await vi.waitFor(() => expect(watch.open).toBe(0));
}

const gets = (api: FakeKubeApi, name: string) =>
  api.calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/pods/${name}`)).length;

describe('waitForPodReady', () => {
  it('follows a chunked watch stream Pending → Running → Ready, from the resourceVersion it read', async () => {
    const { api, pods, name } = await setup();
    const readVersion = api.pod(name)!.metadata!.resourceVersion;
    api.followStore = false;
    api.onWatch = (stream) => {
      const pod = api.pod(name)!;
      stream.send('MODIFIED', { ...pod, status: podStatus.pending() });
      stream.send('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: '999' } });
      stream.send('MODIFIED', { ...pod, status: podStatus.runningNotReady() });
      // One event split across two chunks: the client must reassemble lines.
      const ready = JSON.stringify({ type: 'MODIFIED', object: { ...pod, status: podStatus.ready('10.9.8.7') } });
      stream.raw(ready.slice(0, 40));
      stream.raw(`${ready.slice(40)}\n`);
    };
    const pod = await pods.waitForPodReady(id, { timeoutMs: 10_000 });
    expect(pod).toMatchObject({
      name,
      ready: true,
      phase: 'Running',
      podIP: '10.9.8.7',
      address: 'http://10.9.8.7:8080',
    });
    expect(api.watches).toHaveLength(1);
    const query = api.watches[0]!.url.searchParams;
    expect(query.get('resourceVersion')).toBe(readVersion);
    expect(query.get('fieldSelector')).toBe(`metadata.name=${name}`);
    expect(query.get('allowWatchBookmarks')).toBe('true');
    await expectNoOpenWatch(api);
  });

  it('returns at once, without a watch, when the pod is ready already', async () => {
    const { api, pods, name } = await setup();
    api.update(name, (p) => (p.status = podStatus.ready()));
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    expect(api.watches).toHaveLength(0);
  });

  it('follows store changes made while it waits', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = () => {
      api.update(name, (p) => (p.status = podStatus.runningNotReady()));
      api.update(name, (p) => (p.status = podStatus.ready()));
    };
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    await expectNoOpenWatch(api);
  });

  it('reads again and re-watches when a watch ends early', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = (stream) => {
      if (api.watches.length === 1) {
        // The pod became ready while no watch was open: only the next read can see it.
        api.followStore = false;
        api.update(name, (p) => (p.status = podStatus.ready()));
        api.followStore = true;
        stream.end();
      }
    };
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    expect(gets(api, name)).toBe(2);
    await expectNoOpenWatch(api);
  });

  it('survives 410 Gone sent as a watch event', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = (stream) => {
      if (api.watches.length === 1) {
        stream.send('ERROR', {
          kind: 'Status',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'too old resource version',
        });
      } else {
        api.update(name, (p) => (p.status = podStatus.ready()));
      }
    };
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    expect(api.watches).toHaveLength(2);
    expect(gets(api, name)).toBe(2);
    await expectNoOpenWatch(api);
  });

  it('survives 410 Gone answered to the watch request', async () => {
    const { api, pods, name } = await setup();
    api.failures.set('WATCH pods', { status: 410, reason: 'Gone', times: 1 });
    api.onWatch = () => api.update(name, (p) => (p.status = podStatus.ready()));
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    expect(gets(api, name)).toBe(2);
    await expectNoOpenWatch(api);
  });

  it.each([
    ['ImagePullBackOff', 'POD_IMAGE_PULL'],
    ['ErrImagePull', 'POD_IMAGE_PULL'],
    ['CrashLoopBackOff', 'POD_CRASH_LOOP'],
    ['CreateContainerConfigError', 'POD_CONFIG_ERROR'],
  ])('fails fast on %s with %s', async (reason, code) => {
    const { api, pods, name } = await setup();
    api.onWatch = () => api.update(name, (p) => (p.status = podStatus.waiting(reason, 'back-off pulling image "img"')));
    const error = await pods.waitForPodReady(id, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error).toMatchObject({ code, reason, operation: 'waitForPodReady', podName: name, retryable: false });
    await expectNoOpenWatch(api);
  });

  it('fails fast when the pod ends (phase Failed)', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = () => api.update(name, (p) => (p.status = podStatus.failed()));
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({ code: 'POD_FAILED', category: 'provider' });
    await expectNoOpenWatch(api);
  });

  it('fails with POD_DELETED when the pod is deleted while waiting', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = () => api.remove(name);
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({ code: 'POD_DELETED', podName: name });
    await expectNoOpenWatch(api);
  });

  it('fails with POD_DELETED when the pod starts terminating', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = () => api.update(name, (p) => (p.metadata!.deletionTimestamp = new Date()));
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({ code: 'POD_DELETED' });
    await expectNoOpenWatch(api);
  });

  it('fails with POD_DELETED when the pod vanished between two watches', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = (stream) => {
      api.followStore = false;
      api.remove(name);
      stream.end();
    };
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({ code: 'POD_DELETED' });
  });

  it('rejects K8S_NOT_FOUND for a pod that does not exist', async () => {
    const { pods } = await setup();
    await expect(pods.waitForPodReady({ userId: 'alice', agentId: 'nope' })).rejects.toMatchObject({
      code: 'K8S_NOT_FOUND',
    });
  });

  it('retries a watch or a read the API server could not serve (503)', async () => {
    const { api, pods, name } = await setup();
    api.failures.set('WATCH pods', { status: 503, reason: 'ServiceUnavailable', times: 1 });
    api.onWatch = () => {
      api.failures.set('GET pod', { status: 503, reason: 'ServiceUnavailable', times: 1 });
      api.followStore = false;
      api.update(name, (p) => (p.status = podStatus.ready()));
      api.followStore = true;
      api.watches.at(-1)!.end();
    };
    await expect(pods.waitForPodReady(id)).resolves.toMatchObject({ ready: true });
    await expectNoOpenWatch(api);
  });

  it('gives up with K8S_UNAVAILABLE when the API server stays unavailable', async () => {
    const { api, pods } = await setup();
    api.failures.set('WATCH pods', { status: 503, reason: 'ServiceUnavailable' });
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({ code: 'K8S_UNAVAILABLE', retryable: true });
    await expectNoOpenWatch(api);
  });

  it('rejects K8S_FORBIDDEN when the watch is not allowed', async () => {
    const { api, pods } = await setup();
    api.failures.set('WATCH pods', { status: 403, reason: 'Forbidden' });
    await expect(pods.waitForPodReady(id)).rejects.toMatchObject({
      code: 'K8S_FORBIDDEN',
      operation: 'waitForPodReady',
    });
  });

  it('stops on abort, with the signal reason, and closes the watch', async () => {
    const { api, pods } = await setup();
    const controller = new AbortController();
    api.onWatch = () => controller.abort(new Error('user went away'));
    await expect(pods.waitForPodReady(id, { signal: controller.signal })).rejects.toThrow('user went away');
    await expectNoOpenWatch(api);
  });

  it('gives up with POD_NOT_READY after timeoutMs, naming the last state', async () => {
    const { api, pods, name } = await setup();
    api.onWatch = () => api.update(name, (p) => (p.status = podStatus.runningNotReady()));
    const error = await pods.waitForPodReady(id, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POD_NOT_READY', retryable: true });
    expect((error as Error).message).toContain('Running');
    await expectNoOpenWatch(api);
  });
});
