import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { collectRun } from '@forge/core/testing';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import { grpcAgent } from '@forge/transport-grpc';
import { afterAll, describe, expect, it } from 'vitest';
import { createPodManager, type PodManager } from './pod-manager.js';
import type { PodId, PodTemplate } from './pod-manager-types.js';

/*
 * Against a real cluster, only with FORGE_K8S_TEST=1 and a kubeconfig (KUBECONFIG or ~/.kube/config, or
 * in-cluster). The identity must be allowed what examples/k8s/rbac.yaml grants, in FORGE_K8S_NAMESPACE
 * (default: the context's namespace). Pods get a per-run agent id and are deleted in afterAll.
 *
 *   FORGE_K8S_TEST_IMAGE   a plain server for the lifecycle tests (default agnhost netexec on :8080)
 *   FORGE_K8S_AGENT_IMAGE  the examples/agent-pod image, for the gRPC test (skipped without it)
 *   FORGE_K8S_DIRECT=1     reach pods at their IP instead of through a port-forward
 */
const enabled = process.env.FORGE_K8S_TEST === '1';
const agentImage = process.env.FORGE_K8S_AGENT_IMAGE;
const SKIP_REASON = 'skipped: set FORGE_K8S_TEST=1 and a kubeconfig to run against a real cluster';
if (!enabled) console.warn(`[@forge/k8s] cluster integration tests ${SKIP_REASON}`);

const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const plainTemplate: PodTemplate = {
  image: process.env.FORGE_K8S_TEST_IMAGE ?? 'registry.k8s.io/e2e-test-images/agnhost:2.52',
  ...(process.env.FORGE_K8S_TEST_IMAGE ? {} : { args: ['netexec', '--http-port=8080', '--udp-port=-1'] }),
  agentPort: 8080,
  resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
};

function manager(template: PodTemplate): PodManager {
  return createPodManager({
    ...(process.env.FORGE_K8S_NAMESPACE ? { namespace: process.env.FORGE_K8S_NAMESPACE } : {}),
    template,
    readyTimeoutMs: 180_000,
  });
}

const created: Array<{ pods: PodManager; id: PodId }> = [];
async function createTracked(pods: PodManager, id: PodId, env?: Record<string, string>) {
  created.push({ pods, id });
  return pods.createPod(id, env ? { env } : undefined);
}

afterAll(async () => {
  await Promise.all(
    created.map(({ pods, id }) =>
      pods.deletePod(id, { graceful: false, gracePeriodSeconds: 0 }).catch(() => undefined),
    ),
  );
});

/** A local TCP port forwarded to the pod's port through the API server, as `kubectl port-forward` does. */
async function forward(
  namespace: string,
  podName: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const pf = new PortForward(kc);
  const server: Server = createServer((socket) => {
    void pf.portForward(namespace, podName, [port], socket, null, socket).catch(() => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(!enabled)('@forge/k8s on a real cluster (FORGE_K8S_TEST=1)', () => {
  it('create → ready → status → delete (pod gone)', async () => {
    const pods = manager(plainTemplate);
    const id = { userId: `it-user-${run}`, agentId: 'lifecycle' };
    const createdPod = await createTracked(pods, id);
    expect(createdPod.name).toBe(pods.podName(id));
    const ready = await pods.waitForPodReady(id);
    expect(ready).toMatchObject({ ready: true, phase: 'Running', userId: id.userId, agentId: id.agentId });
    expect(ready.address).toMatch(/^http:\/\/.+:8080$/);
    expect(await pods.getPod(id)).toMatchObject({ ready: true });
    expect(await pods.getPodAddress(id)).toBe(ready.address);
    await expect(pods.createPod(id)).rejects.toMatchObject({ code: 'K8S_ALREADY_EXISTS' });
    expect(await pods.deletePod(id, { gracePeriodSeconds: 0 })).toMatchObject({ deleted: true });
    for (let i = 0; i < 60 && (await pods.findPod(id)); i++) await new Promise((r) => setTimeout(r, 1000));
    expect(await pods.findPod(id)).toBeUndefined();
    expect(await pods.deletePod(id)).toMatchObject({ deleted: false });
  }, 240_000);

  it("lists pods per user: one user never sees another's", async () => {
    const pods = manager(plainTemplate);
    const a = { userId: `it-a-${run}`, agentId: 'one' };
    const b = { userId: `it-b-${run}`, agentId: 'one' };
    await createTracked(pods, a);
    await createTracked(pods, { ...a, agentId: 'two' });
    await createTracked(pods, b);
    expect((await pods.listPods(a.userId)).map((p) => p.agentId).sort()).toEqual(['one', 'two']);
    expect((await pods.listPods(b.userId)).map((p) => p.userId)).toEqual([b.userId]);
  }, 120_000);

  it.skipIf(!agentImage)(
    'create → connect over gRPC → send → receive (needs FORGE_K8S_AGENT_IMAGE)',
    async () => {
      const pods = manager({ image: agentImage!, agentPort: 8080, imagePullPolicy: 'IfNotPresent' });
      const id = { userId: `it-user-${run}`, agentId: 'grpc' };
      await createTracked(pods, id, { FORGE_PROVIDER: 'scripted' });
      const ready = await pods.waitForPodReady(id);
      const tunnel = process.env.FORGE_K8S_DIRECT === '1' ? undefined : await forward(pods.namespace, ready.name, 8080);
      const agent = grpcAgent({ baseUrl: tunnel?.url ?? ready.address! });
      try {
        const run = agent.execute({ prompt: 'hello from the integration test' });
        const { events, result } = await collectRun(run);
        expect(result.status).toBe('completed');
        expect(events.at(-1)!.type).toBe('run.completed');
      } finally {
        await agent.close();
        await tunnel?.close();
      }
    },
    240_000,
  );
});

describe.skipIf(enabled)('@forge/k8s on a real cluster', () => {
  it.skip(SKIP_REASON, () => undefined);
});
