import { createPodManager } from '@forge/k8s';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../../../../packages/k8s/src/test-support/fake-kube-api.js';
import { loadConfig } from '../config.js';
import { podTemplateOf } from './k8s-from-config.js';
import { parseDurationMs, parseK8sImages, parseK8sResources } from './k8s-settings.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

const k8s = (env: Record<string, string>) => loadConfig(['--backend', 'k8s'], env).k8s;
const refused = (env: Record<string, string>) => {
  try {
    k8s(env);
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('accepted');
};

describe('FORGE_K8S_RESOURCES', () => {
  it('takes cpu=…,memory=… (requests and limits alike), one side with requests./limits., or JSON', () => {
    expect(parseK8sResources('cpu=500m,memory=1Gi')).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { cpu: '500m', memory: '1Gi' },
    });
    expect(parseK8sResources('requests.cpu=250m, limits.cpu=2, memory=2Gi')).toEqual({
      requests: { cpu: '250m', memory: '2Gi' },
      limits: { cpu: '2', memory: '2Gi' },
    });
    expect(parseK8sResources('{"requests":{"cpu":"100m","nvidia.com/gpu":1},"limits":{"memory":"512Mi"}}')).toEqual({
      requests: { cpu: '100m', 'nvidia.com/gpu': '1' },
      limits: { memory: '512Mi' },
    });
    expect(parseK8sResources(undefined)).toBeUndefined();
  });

  it('stops the platform at startup with a clear INVALID_CONFIG naming the setting and what is wrong', () => {
    expect(refused({ FORGE_K8S_RESOURCES: 'cpu=lots' })).toEqual({
      code: 'INVALID_CONFIG',
      message: 'FORGE_K8S_RESOURCES: requests.cpu must be a Kubernetes quantity (e.g. 500m, 1, 2Gi), got "lots"',
    });
    expect(refused({ FORGE_K8S_RESOURCES: 'cpu' }).message).toBe('FORGE_K8S_RESOURCES: "cpu" is not name=quantity');
    expect(refused({ FORGE_K8S_RESOURCES: '{"request":{}}' }).message).toBe(
      'FORGE_K8S_RESOURCES: unknown field request (only requests and limits)',
    );
    expect(refused({ FORGE_K8S_RESOURCES: '{"limits":' }).message).toMatch(/^FORGE_K8S_RESOURCES: not JSON/);
    expect(refused({ FORGE_K8S_RESOURCES: '{}' }).message).toBe('FORGE_K8S_RESOURCES: names no requests and no limits');
  });

  it('reaches the agent pods’ spec through the pod manager', async () => {
    const config = loadConfig(['--backend', 'k8s'], {
      FORGE_K8S_IMAGE: 'registry.example/forge-agent-pod:1',
      FORGE_K8S_RESOURCES: 'requests.cpu=250m,memory=1Gi',
    });
    const api = new FakeKubeApi();
    server.use(...api.handlers());
    const pods = createPodManager({ kubeConfig: api.kubeConfig(), template: podTemplateOf(config) });
    const pod = await pods.createPod({ userId: 'alice', agentId: 'agt_0123456789abcdef' });
    expect(api.pod(pod.name)!.spec!.containers[0]).toMatchObject({
      image: 'registry.example/forge-agent-pod:1',
      resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1Gi' } },
    });
  });
});

describe('FORGE_K8S_IMAGES, FORGE_K8S_IDLE_TTL, FORGE_K8S_REAP_INTERVAL_MS', () => {
  it('reads the image allow-list as name=image pairs or JSON, refusing what is not an image', () => {
    expect(
      parseK8sImages(`python=registry.example/agent-python:3.12, node=agent-node@sha256:${'a'.repeat(64)}`),
    ).toEqual({ python: 'registry.example/agent-python:3.12', node: `agent-node@sha256:${'a'.repeat(64)}` });
    expect(parseK8sImages('{"go":"ghcr.io/acme/agent-go:1"}')).toEqual({ go: 'ghcr.io/acme/agent-go:1' });
    expect(refused({ FORGE_K8S_IMAGES: 'python=bad image' }).message).toBe(
      'FORGE_K8S_IMAGES: python: "bad image" is not a container image reference',
    );
    expect(refused({ FORGE_K8S_IMAGES: 'Py=x' }).message).toMatch(/"Py" is not an image name/);
    expect(k8s({}).images).toEqual({});
  });

  it('reads durations, and reaps a tenth of the TTL apart by default (1 s to 60 s)', () => {
    expect(parseDurationMs('X', '30m')).toBe(1_800_000);
    expect(parseDurationMs('X', '90000')).toBe(90_000);
    expect(k8s({ FORGE_K8S_IDLE_TTL: '15m' })).toMatchObject({ idleTtlMs: 900_000, reapIntervalMs: 60_000 });
    expect(k8s({ FORGE_K8S_IDLE_TTL: '2m', FORGE_K8S_REAP_INTERVAL_MS: '5000' })).toMatchObject({
      idleTtlMs: 120_000,
      reapIntervalMs: 5_000,
    });
    expect(k8s({}).idleTtlMs).toBeUndefined();
    expect(refused({ FORGE_K8S_IDLE_TTL: 'soon' }).message).toBe(
      'FORGE_K8S_IDLE_TTL: expected a duration such as 900000, 900s, 15m or 1h, got "soon"',
    );
    expect(refused({ FORGE_K8S_REAP_INTERVAL_MS: '10' }).message).toMatch(/must be from 1 s/);
  });
});
