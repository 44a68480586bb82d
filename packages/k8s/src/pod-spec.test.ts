import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podKeys } from './pod-keys.js';
import { podNaming } from './naming.js';
import { buildPod } from './pod-spec.js';
import { podReadiness, toSummary } from './pod-state.js';

const base = { naming: podNaming('forge'), keys: podKeys('forge.dev'), managedBy: 'forge' };
const id = { userId: 'alice', agentId: 'main' };

describe('buildPod', () => {
  it('is secure by default', () => {
    const pod = buildPod({ ...base, id, template: { image: 'img' } });
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const container = pod.spec!.containers[0]!;
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.readinessProbe).toMatchObject({ tcpSocket: { port: 8080 } });
    expect(container.ports).toEqual([{ name: 'agent', containerPort: 8080, protocol: 'TCP' }]);
    expect(pod.spec!.enableServiceLinks).toBe(false);
  });

  it('takes the template: resources, env, secrets, scheduling, service account', () => {
    const pod = buildPod({
      ...base,
      id,
      ttlSeconds: 600,
      template: {
        image: 'img',
        agentPort: 9000,
        resources: { limits: { cpu: '1', memory: '1Gi' } },
        env: {
          MODE: 'x',
          ANTHROPIC_API_KEY: { secret: 'keys', key: 'anthropic' },
          PORT: 'spoofed',
          FORGE_USER_ID: 'mallory',
        },
        envFromSecrets: ['shared'],
        nodeSelector: { pool: 'agents' },
        tolerations: [{ key: 'agents', operator: 'Exists', effect: 'NoSchedule' }],
        serviceAccountName: 'agent',
        automountServiceAccountToken: true,
        readinessProbe: null,
      },
      create: { env: { EXTRA: '1' }, labels: { team: 'a' } },
    });
    const container = pod.spec!.containers[0]!;
    expect(container.env).toEqual([
      { name: 'FORGE_USER_ID', value: 'alice' },
      { name: 'FORGE_AGENT_ID', value: 'main' },
      { name: 'PORT', value: '9000' },
      { name: 'MODE', value: 'x' },
      { name: 'ANTHROPIC_API_KEY', valueFrom: { secretKeyRef: { name: 'keys', key: 'anthropic' } } },
      { name: 'EXTRA', value: '1' },
    ]);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'shared' } }]);
    expect(container.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' } });
    expect(container.readinessProbe).toBeUndefined();
    expect(pod.spec).toMatchObject({
      nodeSelector: { pool: 'agents' },
      serviceAccountName: 'agent',
      automountServiceAccountToken: true,
    });
    expect(pod.metadata!.labels).toMatchObject({ team: 'a', 'forge.dev/user': 'alice' });
    expect(pod.metadata!.annotations).toMatchObject({
      'forge.dev/user-id': 'alice',
      'forge.dev/agent-id': 'main',
      'forge.dev/ttl-seconds': '600',
    });
  });

  it("takes one pod's image and requests/limits over the template's", () => {
    const template = { image: 'img', resources: { limits: { cpu: '1' } } };
    const pod = buildPod({
      ...base,
      id,
      template,
      create: { image: 'registry.example/python-agent:3', resources: { requests: { cpu: '250m' } } },
    });
    expect(pod.spec!.containers[0]).toMatchObject({
      image: 'registry.example/python-agent:3',
      resources: { requests: { cpu: '250m' } },
    });
    expect(buildPod({ ...base, id, template }).spec!.containers[0]).toMatchObject({
      image: 'img',
      resources: { limits: { cpu: '1' } },
    });
  });

  it('does not let template labels override identity labels', () => {
    const pod = buildPod({
      ...base,
      id,
      template: { image: 'img', labels: { 'forge.dev/user': 'mallory', 'app.kubernetes.io/managed-by': 'x' } },
    });
    expect(pod.metadata!.labels).toMatchObject({ 'forge.dev/user': 'alice', 'app.kubernetes.io/managed-by': 'forge' });
  });
});

describe('podReadiness / toSummary', () => {
  const pod = (status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({
    metadata: { name: 'p', ...extra },
    spec: { containers: [{ name: 'agent' }, { name: 'sidecar' }] },
    status,
  });
  const running = (ready: boolean) => ({ name: 'agent', image: '', imageID: '', ready, restartCount: 0 });

  it('needs Running, an IP and every container ready', () => {
    expect(podReadiness(pod({ phase: 'Running', podIP: '1.2.3.4', containerStatuses: [running(true)] })).state).toBe(
      'pending',
    );
    expect(podReadiness(pod({ phase: 'Running', containerStatuses: [running(true), running(true)] })).state).toBe(
      'pending',
    );
    expect(
      podReadiness(pod({ phase: 'Running', podIP: '1.2.3.4', containerStatuses: [running(true), running(false)] }))
        .state,
    ).toBe('pending');
    expect(
      podReadiness(pod({ phase: 'Running', podIP: '1.2.3.4', containerStatuses: [running(true), running(true)] }))
        .state,
    ).toBe('ready');
  });

  it('sees failures in init containers too', () => {
    const r = podReadiness(
      pod({
        phase: 'Pending',
        initContainerStatuses: [{ ...running(false), state: { waiting: { reason: 'ErrImagePull' } } }],
      }),
    );
    expect(r).toMatchObject({ state: 'failed', code: 'POD_IMAGE_PULL' });
  });

  it("names an unschedulable pod's reason while it stays pending", () => {
    const r = podReadiness(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        ],
      }),
    );
    expect(r).toEqual({ state: 'pending', reason: 'Unschedulable: 0/3 nodes are available: 3 Insufficient memory.' });
  });

  it('summarises IPv6 addresses with brackets', () => {
    const s = toSummary(pod({ phase: 'Running', podIP: 'fd00::1' }), podKeys('forge.dev'), 8080);
    expect(s.address).toBe('http://[fd00::1]:8080');
  });
});
