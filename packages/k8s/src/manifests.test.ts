import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1NetworkPolicy, type V1Role } from '@kubernetes/client-node';
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
    expect(role.rules!.flatMap((r) => r.resources)).toEqual(['pods', 'pods/exec']);
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
