import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1Deployment, type V1LimitRange, type V1ResourceQuota } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';

const manifest = (file: string) =>
  loadAllYaml(readFileSync(fileURLToPath(new URL(`../../../k8s/${file}`, import.meta.url)), 'utf8')) as Array<{
    kind: string;
  }>;

/** A Kubernetes quantity as a number (cpu in cores, memory in bytes): enough for the manifests' values. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new Error(`quantity ${q}`);
  const unit = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] as 'm'] ?? 1;
  return Number(m[1]) * unit;
}

describe('examples/k8s: agent pods bounded', () => {
  const limits = manifest('agent-limits.yaml');
  const range = limits.find((d) => d.kind === 'LimitRange') as unknown as V1LimitRange;
  const quota = limits.find((d) => d.kind === 'ResourceQuota') as unknown as V1ResourceQuota;
  const deployment = manifest('platform.yaml').find((d) => d.kind === 'Deployment') as unknown as V1Deployment;
  const env = Object.fromEntries(
    deployment
      .spec!.template.spec!.containers[0]!.env!.filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value!]),
  );

  it('agent-limits.yaml bounds the namespace the platform makes agent pods in', () => {
    expect(range.metadata!.namespace).toBe(env.FORGE_K8S_NAMESPACE);
    expect(quota.metadata!.namespace).toBe(env.FORGE_K8S_NAMESPACE);
    expect(Object.keys(quota.spec!.hard!).sort()).toEqual([
      'limits.cpu',
      'limits.memory',
      'pods',
      'requests.cpu',
      'requests.memory',
    ]);
  });

  it("platform.yaml's FORGE_K8S_* settings load, and each pod's requests/limits fit the LimitRange", () => {
    // The Secrets' part (the hub secret) is not in the manifest; the rest is read as the platform reads it.
    const config = loadConfig(['--backend', 'k8s'], { ...env, FORGE_HUB_SECRET: 'x'.repeat(32) });
    expect(config.k8s.idleTtlMs).toBe(30 * 60_000);
    expect(Object.values(config.k8s.images)).toContain(env.FORGE_K8S_IMAGE);
    const container = range.spec!.limits.find((l) => l.type === 'Container')!;
    const resources = config.k8s.resources!;
    for (const side of ['requests', 'limits'] as const)
      for (const [name, q] of Object.entries(resources[side] ?? {})) {
        expect(quantity(q), `${side}.${name} ≤ max`).toBeLessThanOrEqual(quantity(container.max![name]!));
        expect(quantity(q), `${side}.${name} ≥ min`).toBeGreaterThanOrEqual(quantity(container.min![name]!));
      }
    // The quota holds more than one agent pod at its limits.
    expect(quantity(quota.spec!.hard!['limits.memory']!)).toBeGreaterThan(2 * quantity(resources.limits!.memory!));
  });
});
