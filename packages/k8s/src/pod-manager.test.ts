import { ValidationError } from '@forge/core';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesError } from './errors.js';
import { createPodManager, type PodManager } from './pod-manager.js';
import { FakeKubeApi, podStatus } from './test-support/fake-kube-api.js';
import type { PodManagerOptions } from './pod-manager-types.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(options: Partial<PodManagerOptions> = {}): { api: FakeKubeApi; pods: PodManager } {
  const api = new FakeKubeApi();
  server.use(...api.handlers());
  const pods = createPodManager({
    kubeConfig: api.kubeConfig(),
    template: { image: 'forge-agent-pod:test' },
    ...options,
  });
  return { api, pods };
}

const alice = { userId: 'alice', agentId: 'main' };
const bob = { userId: 'bob', agentId: 'main' };

describe('createPod', () => {
  it('creates one hardened, labelled pod in the kubeconfig namespace', async () => {
    const { api, pods } = setup();
    const summary = await pods.createPod(alice);
    expect(summary).toMatchObject({
      userId: 'alice',
      agentId: 'main',
      namespace: 'agents',
      phase: 'Pending',
      ready: false,
      address: undefined,
    });
    expect(summary.name).toBe(pods.podName(alice));
    const pod = api.pod(summary.name)!;
    expect(pod.metadata!.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'forge',
      'forge.dev/user': 'alice',
      'forge.dev/agent': 'main',
    });
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.spec!.containers[0]!.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(summary.createdAt).toBeInstanceOf(Date);
  });

  it('reports an existing pod as K8S_ALREADY_EXISTS instead of duplicating it', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    const error = await pods.createPod(alice).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error).toMatchObject({
      code: 'K8S_ALREADY_EXISTS',
      category: 'conflict',
      operation: 'createPod',
      podName: pods.podName(alice),
      status: 409,
    });
    expect(api.pods.size).toBe(1);
    await expect(pods.ensurePod(alice)).resolves.toMatchObject({ name: pods.podName(alice) });
  });

  it('types a 403 as K8S_FORBIDDEN with the operation and pod name', async () => {
    const { api, pods } = setup();
    api.failures.set('POST pods', {
      status: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "x" cannot create resource "pods"',
    });
    const error = await pods.createPod(alice).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'K8S_FORBIDDEN',
      operation: 'createPod',
      podName: pods.podName(alice),
      retryable: false,
    });
    expect((error as Error).message).toContain('cannot create resource');
  });

  it('types a 503 as retryable K8S_UNAVAILABLE', async () => {
    const { api, pods } = setup();
    api.failures.set('POST pods', { status: 503, reason: 'ServiceUnavailable' });
    await expect(pods.createPod(alice)).rejects.toMatchObject({
      code: 'K8S_UNAVAILABLE',
      category: 'transport',
      retryable: true,
    });
  });

  it('types a network failure as retryable K8S_UNAVAILABLE', async () => {
    const { api, pods } = setup();
    server.use(http.post(`${api.server}/api/v1/namespaces/:ns/pods`, () => HttpResponse.error()));
    const error = await pods.createPod(alice).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error).toMatchObject({ code: 'K8S_UNAVAILABLE', retryable: true, operation: 'createPod' });
  });

  it('rejects unrepresentable ids with a ValidationError and sends nothing', async () => {
    const { api, pods } = setup();
    for (const id of [
      { userId: '', agentId: 'a' },
      { userId: 'a\u0000b', agentId: 'a' },
      { userId: 'x'.repeat(300), agentId: 'a' },
      { userId: ' padded', agentId: 'a' },
      { userId: 'ok', agentId: '\ud800' },
    ]) {
      await expect(pods.createPod(id)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(pods.listPods('')).rejects.toBeInstanceOf(ValidationError);
    expect(api.calls).toHaveLength(0);
  });

  it('validates its options', () => {
    expect(() => createPodManager({ kubeConfig: new FakeKubeApi().kubeConfig(), template: { image: '' } })).toThrow(
      ValidationError,
    );
    expect(() =>
      createPodManager({ kubeConfig: new FakeKubeApi().kubeConfig(), template: { image: 'x', agentPort: 70000 } }),
    ).toThrow(ValidationError);
    expect(() =>
      createPodManager({
        kubeConfig: new FakeKubeApi().kubeConfig(),
        template: { image: 'x' },
        labelPrefix: 'Not A Prefix',
      }),
    ).toThrow(ValidationError);
  });
});

describe('getPod / getPodAddress', () => {
  it('gives the address once the pod has an IP, POD_NO_ADDRESS before', async () => {
    const { api, pods } = setup({ template: { image: 'x', agentPort: 9090 } });
    await pods.createPod(alice);
    await expect(pods.getPodAddress(alice)).rejects.toMatchObject({
      code: 'POD_NO_ADDRESS',
      operation: 'getPodAddress',
      retryable: true,
    });
    api.update(pods.podName(alice), (p) => (p.status = podStatus.ready('10.1.2.3')));
    await expect(pods.getPodAddress(alice)).resolves.toBe('http://10.1.2.3:9090');
    await expect(pods.getPod(alice)).resolves.toMatchObject({ ready: true, phase: 'Running', podIP: '10.1.2.3' });
  });

  it('types a missing pod as K8S_NOT_FOUND (findPod: undefined)', async () => {
    const { pods } = setup();
    await expect(pods.getPod(alice)).rejects.toMatchObject({
      code: 'K8S_NOT_FOUND',
      category: 'not_found',
      operation: 'getPod',
      podName: pods.podName(alice),
    });
    await expect(pods.findPod(alice)).resolves.toBeUndefined();
  });
});

describe('listPods', () => {
  it('isolates users by label selector, whatever their ids look like', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    await pods.createPod({ userId: 'alice', agentId: 'second' });
    await pods.createPod(bob);
    // Ids that sanitise to the same readable label must still not see each other.
    await pods.createPod({ userId: 'Alice!', agentId: 'main' });
    await pods.createPod({ userId: 'alice?', agentId: 'main' });
    expect((await pods.listPods('alice')).map((p) => p.agentId).sort()).toEqual(['main', 'second']);
    expect((await pods.listPods('bob')).map((p) => p.userId)).toEqual(['bob']);
    expect((await pods.listPods('Alice!')).map((p) => p.userId)).toEqual(['Alice!']);
    expect(await pods.listPods('carol')).toEqual([]);
    const selectors = api.calls.filter((c) => c.method === 'GET').map((c) => c.query.get('labelSelector'));
    expect(
      selectors.every((s) => s?.includes('app.kubernetes.io/managed-by=forge') && s.includes('forge.dev/user-hash=')),
    ).toBe(true);
    expect(await pods.listAllPods()).toHaveLength(5);
  });

  it('follows list pages', async () => {
    const api = new FakeKubeApi();
    server.use(...api.handlers());
    const pods = createPodManager({ kubeConfig: api.kubeConfig(), template: { image: 'x' } }, { pageSize: 2 });
    for (const agentId of ['a', 'b', 'c', 'd', 'e']) await pods.createPod({ userId: 'alice', agentId });
    expect((await pods.listPods('alice')).map((p) => p.agentId).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const pages = api.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/pods'));
    expect(pages.map((c) => c.query.get('continue'))).toEqual([null, '2', '4']);
  });

  it('ignores pods it does not manage', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    api.seed({ metadata: { name: 'other', labels: { 'forge.dev/user': 'alice' } }, spec: { containers: [] } });
    expect(await pods.listPods('alice')).toHaveLength(1);
  });
});

describe('deletePod', () => {
  it('deletes, and treats 404 as success', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    await expect(pods.deletePod(alice, { gracePeriodSeconds: 5 })).resolves.toEqual({
      name: pods.podName(alice),
      deleted: true,
    });
    expect(api.pods.size).toBe(0);
    expect(api.calls.find((c) => c.method === 'DELETE')!.query.get('gracePeriodSeconds')).toBe('5');
    await expect(pods.deletePod(alice)).resolves.toEqual({ name: pods.podName(alice), deleted: false });
  });

  it('asks the agent to shut down first and ignores the hook failing', async () => {
    const shutdownHook = vi.fn(async () => {
      throw new Error('agent unreachable');
    });
    const { api, pods } = setup({ shutdownHook });
    await pods.createPod(alice);
    await expect(pods.deletePod(alice, { graceful: true })).resolves.toMatchObject({ deleted: true });
    expect(shutdownHook).toHaveBeenCalledWith(expect.objectContaining({ userId: 'alice', agentId: 'main' }));
    expect(api.pods.size).toBe(0);
  });

  it('does not let a hung hook keep the pod alive', async () => {
    const { api, pods } = setup({ shutdownHook: () => new Promise<void>(() => undefined), shutdownTimeoutMs: 20 });
    await pods.createPod(alice);
    await expect(pods.deletePod(alice)).resolves.toMatchObject({ deleted: true });
    expect(api.pods.size).toBe(0);
  });

  it('skips the hook when not graceful', async () => {
    const shutdownHook = vi.fn();
    const { pods } = setup({ shutdownHook });
    await pods.createPod(alice);
    await pods.deletePod(alice, { graceful: false, gracePeriodSeconds: 0 });
    expect(shutdownHook).not.toHaveBeenCalled();
  });

  it('surfaces a 403 on delete as K8S_FORBIDDEN', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    api.failures.set('DELETE pod', { status: 403, reason: 'Forbidden' });
    await expect(pods.deletePod(alice)).rejects.toMatchObject({ code: 'K8S_FORBIDDEN', operation: 'deletePod' });
  });
});

describe('reapOrphans', () => {
  const at = (iso: string) => () => new Date(iso);

  it('deletes pods past their TTL annotation, keeps young ones', async () => {
    const { api, pods } = setup({ ttlSeconds: 600, now: at('2030-01-01T01:00:00Z') });
    await pods.createPod(alice);
    await pods.createPod(bob);
    api.update(pods.podName(alice), (p) => (p.metadata!.creationTimestamp = new Date('2030-01-01T00:00:00Z')));
    api.update(pods.podName(bob), (p) => (p.metadata!.creationTimestamp = new Date('2030-01-01T00:55:00Z')));
    const reaped = await pods.reapOrphans();
    expect(reaped.map((p) => p.userId)).toEqual(['alice']);
    expect([...api.pods.values()].map((p) => p.metadata!.name)).toEqual([pods.podName(bob)]);
  });

  it('asks the host which old pods are alive; a failing check keeps the pod', async () => {
    const { api, pods } = setup({ now: at('2030-01-01T01:00:00Z') });
    const ids = [alice, bob, { userId: 'carol', agentId: 'x' }];
    for (const id of ids) {
      await pods.createPod(id);
      api.update(pods.podName(id), (p) => (p.metadata!.creationTimestamp = new Date('2030-01-01T00:00:00Z')));
    }
    const reaped = await pods.reapOrphans({
      olderThan: 60_000,
      isAlive: (p) => {
        if (p.userId === 'carol') throw new Error('check failed');
        return p.userId === 'bob';
      },
    });
    expect(reaped.map((p) => p.userId)).toEqual(['alice']);
    expect(api.pods.size).toBe(2);
  });

  it('reaps terminated pods without asking, and only the given user', async () => {
    const { api, pods } = setup();
    await pods.createPod(alice);
    await pods.createPod(bob);
    api.update(pods.podName(alice), (p) => (p.status = podStatus.failed()));
    api.update(pods.podName(bob), (p) => (p.status = podStatus.failed()));
    const isAlive = vi.fn(() => true);
    expect((await pods.reapOrphans({ userId: 'alice', isAlive })).map((p) => p.name)).toEqual([pods.podName(alice)]);
    expect(isAlive).not.toHaveBeenCalled();
    expect(api.pod(pods.podName(bob))).toBeDefined();
  });

  it('with neither an age rule nor a check, deletes nothing that runs', async () => {
    const { pods } = setup();
    await pods.createPod(alice);
    expect(await pods.reapOrphans()).toEqual([]);
  });
});
