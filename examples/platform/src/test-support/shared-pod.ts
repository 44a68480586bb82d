import type { PodId, PodSummary } from '@forge/k8s';
import type { PodManagerLike } from '../backends/k8s-backend.js';

/**
 * A pod manager stand-in that several platform processes share without sharing memory: every agent is one
 * Ready pod serving at `address` (a gRPC agent server the test runs), so an agent created through one replica
 * is found by the other. Tests of runs changing replicas only; it never refuses an id.
 */
export function sharedPod(address: string): PodManagerLike {
  const summary = (id: PodId): PodSummary => ({
    name: `forge-${id.agentId}`,
    namespace: 'forge',
    userId: id.userId,
    agentId: id.agentId,
    phase: 'Running',
    ready: true,
    podIP: new URL(address).hostname,
    address,
    createdAt: new Date(1_700_000_000_000),
    deletingSince: undefined,
    labels: { 'forge.dev/user': id.userId, 'forge.dev/agent': id.agentId },
    annotations: { 'forge.dev/provider': 'scripted' },
    reason: undefined,
  });
  return {
    createPod: async (id) => summary(id),
    waitForPodReady: async (id) => summary(id),
    findPod: async (id) => summary(id),
    getPodAddress: async () => address,
    listPods: async () => [],
    deletePod: async (id) => ({ name: `forge-${id.agentId}`, deleted: true }),
  };
}
