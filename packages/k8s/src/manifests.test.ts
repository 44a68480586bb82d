import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  loadAllYaml,
  type V1Deployment,
  type V1NetworkPolicy,
  type V1Role,
  type V1Service,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podKeys } from './pod-keys.js';
import { podNaming } from './naming.js';
import { buildPod } from './pod-spec.js';

// examples/k8s must stay in step with what the manager does: the Role grants what it calls, the
// NetworkPolicy selects the pods it creates, and its pods pass the namespace's "restricted" Pod Security.
const manifest = (file: string) =>
  loadAllYaml(readFileSync(fileURLToPath(new URL(`../../../examples/k8s/${file}`, import.meta.url)), 'utf8')) as Array<{
    kind: string;
  }>;
const pod = buildPod({
  id: { userId: 'u', agentId: 'a' },
  template: { image: 'img' },
  naming: podNaming('forge'),
  keys: podKeys('forge.dev'),
  managedBy: 'forge',
});

describe('examples/k8s', () => {
  it('rbac.yaml grants exactly what the pod manager uses', () => {
    const role = manifest('rbac.yaml').find((d) => d.kind === 'Role') as unknown as V1Role;
    const verbs = (resource: string) =>
      role.rules!.filter((r) => r.resources!.includes(resource)).flatMap((r) => r.verbs);
    expect(verbs('pods').sort()).toEqual(['create', 'delete', 'get', 'list', 'watch']);
    expect(verbs('pods/exec')).toContain('create');
    // pods/log: podLogs (the platform's GET /api/v1/agents/:id/logs), read only.
    expect(verbs('pods/log')).toEqual(['get']);
    expect(role.rules!.flatMap((r) => r.resources)).toEqual(['pods', 'pods/exec', 'pods/log']);
  });

  it('platform.yaml runs two replicas on the PostgreSQL of postgres.yaml, with the hub reachable through the Service', () => {
    const docs = manifest('platform.yaml');
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as V1Deployment;
    const service = docs.find((d) => d.kind === 'Service') as unknown as V1Service;
    expect(deployment.spec!.replicas).toBe(2);
    const container = deployment.spec!.template.spec!.containers[0]!;
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    const secrets = container.envFrom!.map((e) => e.secretRef!.name);
    // FORGE_DATABASE_URL comes from the Secret postgres.yaml's comment creates, beside the StatefulSet it names.
    expect(secrets).toContain('forge-postgres');
    const postgres = manifest('postgres.yaml').find((d) => d.kind === 'StatefulSet') as unknown as V1StatefulSet;
    expect(postgres.metadata!.name).toBe('forge-postgres');
    expect(
      readFileSync(fileURLToPath(new URL('../../../examples/k8s/postgres.yaml', import.meta.url)), 'utf8'),
    ).toMatch(/create secret generic forge-postgres[\s\S]*FORGE_DATABASE_URL=/);
    // Leases are named per pod, so a replica that is gone is taken over and a restarted one reclaims.
    expect(env.FORGE_INSTANCE_ID).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    // The hub: its port is the container's "hub" port, which the Service exposes at the public URL's port.
    expect(secrets).toContain('forge-platform-hub');
    const hubPort = container.ports!.find((p) => p.name === 'hub')!.containerPort;
    expect(String(hubPort)).toBe(env.FORGE_HUB_PORT);
    const exposed = service.spec!.ports!.find((p) => p.targetPort === 'hub')!;
    const publicUrl = new URL(String(env.FORGE_HUB_PUBLIC_URL));
    expect(Number(publicUrl.port)).toBe(exposed.port);
    expect(publicUrl.hostname).toBe(`${service.metadata!.name}.${service.metadata!.namespace}.svc`);
    expect(service.spec!.selector).toEqual(deployment.spec!.selector!.matchLabels);
  });

  it('platform.yaml probes /livez and /readyz over HTTP, and keeps the keyless metrics port off the Service', () => {
    const docs = manifest('platform.yaml');
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as V1Deployment;
    const service = docs.find((d) => d.kind === 'Service') as unknown as V1Service;
    const container = deployment.spec!.template.spec!.containers[0]!;
    expect(container.livenessProbe!.httpGet).toMatchObject({ path: '/livez', port: 'http' });
    expect(container.readinessProbe!.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    const metricsPort = container.ports!.find((p) => p.name === 'metrics')!.containerPort;
    expect(String(metricsPort)).toBe(env.FORGE_METRICS_PORT);
    expect(deployment.spec!.template.metadata!.annotations!['prometheus.io/port']).toBe(String(metricsPort));
    expect(service.spec!.ports!.map((p) => p.targetPort)).not.toContain('metrics');
  });

  it('platform-scaling.yaml keeps a replica up and scales the Deployment from two; SIGTERM has time to drain', () => {
    const deployment = manifest('platform.yaml').find((d) => d.kind === 'Deployment') as unknown as V1Deployment;
    const docs = manifest('platform-scaling.yaml') as unknown as Array<{
      kind: string;
      spec: Record<string, unknown>;
    }>;
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget')!;
    expect(pdb.spec.minAvailable).toBe(1);
    expect((pdb.spec.selector as { matchLabels: unknown }).matchLabels).toEqual(deployment.spec!.selector!.matchLabels);
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'forge-platform' });
    expect(deployment.metadata!.name).toBe('forge-platform');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const container = deployment.spec!.template.spec!.containers[0]!;
    const drainMs = Number(container.env!.find((e) => e.name === 'FORGE_DRAIN_MS')!.value);
    expect(deployment.spec!.template.spec!.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(drainMs);
  });

  it('networkpolicy.yaml selects managed pods and opens only their agent port', () => {
    const policy = manifest('networkpolicy.yaml')[0] as unknown as V1NetworkPolicy;
    for (const [key, value] of Object.entries(policy.spec!.podSelector!.matchLabels!))
      expect(pod.metadata!.labels![key]).toBe(value);
    expect(policy.spec!.ingress!.flatMap((r) => r.ports!.map((p) => p.port))).toEqual([
      pod.spec!.containers[0]!.ports![0]!.containerPort,
    ]);
    expect(policy.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('the default pod passes Pod Security "restricted", which namespace.yaml enforces', () => {
    const ns = manifest('namespace.yaml')[0] as unknown as { metadata: { labels: Record<string, string> } };
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const spec = pod.spec!;
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.securityContext!.runAsNonRoot).toBe(true);
    expect(spec.securityContext!.runAsUser).toBeGreaterThan(0);
    for (const c of spec.containers) {
      expect(c.securityContext!.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext!.capabilities!.drop).toEqual(['ALL']);
      expect(c.securityContext!.capabilities!.add).toBeUndefined();
      expect(c.securityContext!.privileged).toBe(false);
      expect(c.securityContext!.seccompProfile!.type).toBe('RuntimeDefault');
    }
  });
});
