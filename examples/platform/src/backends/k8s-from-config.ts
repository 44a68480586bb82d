import type { Logger, ProviderRegistry, SessionStore } from '@forge/core';
import { createPodManager } from '@forge/k8s';
import { ParkedAgents, type ForgeStore } from '@forge/store';
import { grpcAgent } from '@forge/transport-grpc';
import type { PlatformConfig } from '../config.js';
import type { AgentBackend } from './backend.js';
import { k8sBackend } from './k8s-backend.js';
import { PodReaper, type AgentActivity } from './k8s-pod-reaper.js';
import { meteredPods } from '../metrics/metered-pods.js';
import type { PlatformMetrics } from '../metrics/platform-metrics.js';

/** What the agent-pod image (examples/agent-pod) serves, chosen per pod by FORGE_PROVIDER. */
export const AGENT_POD_PROVIDERS = ['claude-code', 'opencode', 'scripted'];

/**
 * The k8s backend wired from configuration: `@forge/k8s`'s pod manager (this module is imported only
 * in k8s mode, so local mode never loads the Kubernetes client) and gRPC to the agent-pod image.
 */
export async function k8sBackendFromConfig(
  config: PlatformConfig,
  _registry: ProviderRegistry,
  logger: Logger,
  metrics?: PlatformMetrics,
  sessionStore?: SessionStore,
  store?: ForgeStore,
): Promise<AgentBackend> {
  const pods = createPodManager({
    namespace: config.k8s.namespace,
    template: podTemplateOf(config),
    readyTimeoutMs: config.createTimeoutMs,
    // DELETE ?graceful=true: the agent finishes or cancels its runs (gRPC Shutdown) before the pod goes.
    shutdownHook: async (pod) => {
      if (!pod.address) return;
      const agent = grpcAgent({ baseUrl: pod.address, logger });
      try {
        await agent.shutdown({ graceful: true });
      } finally {
        await agent.close();
      }
    },
  });
  const parked = store ? new ParkedAgents(store.sql) : undefined;
  const backend = k8sBackend({
    // Pod start-up is timed (forge_pod_ready_seconds).
    pods: metrics ? meteredPods(pods, metrics) : pods,
    providers: AGENT_POD_PROVIDERS,
    // The pods' sessions are kept in the platform's store (the agent-pod saves and loads them over the run's stream).
    connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider, logger, ...(sessionStore ? { sessionStore } : {}) }),
    logger,
    images: config.k8s.images,
    ...(parked ? { parked } : {}),
    wakeTimeoutMs: config.createTimeoutMs,
  });
  if (!store || !parked) return backend;
  // Dead pods and (with FORGE_K8S_IDLE_TTL) idle agents' pods go on a timer; the agents stay, parked.
  const reaper = new PodReaper({
    pods,
    parked,
    activity: storeActivity(store),
    ...(config.k8s.idleTtlMs !== undefined ? { idleTtlMs: config.k8s.idleTtlMs } : {}),
    intervalMs: config.k8s.reapIntervalMs,
    logger,
  }).start();
  return {
    ...backend,
    async close() {
      await reaper.close();
      await backend.close();
    },
  };
}

/** The agent pods' template: image, port, model-key Secrets and FORGE_K8S_RESOURCES' requests/limits. */
export function podTemplateOf(config: PlatformConfig) {
  return {
    image: config.k8s.image,
    agentPort: config.k8s.agentPort,
    envFromSecrets: config.k8s.envFromSecrets,
    ...(config.k8s.resources ? { resources: config.k8s.resources } : {}),
  };
}

/** An agent's busyness and last run, from the runs every replica shares. */
export function storeActivity(store: ForgeStore): (userId: string, agentId: string) => Promise<AgentActivity> {
  return async (userId, agentId) => {
    const [{ running, queued }, [last]] = await Promise.all([
      store.runs.active(userId, agentId),
      store.runs.list(userId, agentId, { limit: 1 }),
    ]);
    return {
      busy: running !== undefined || queued.length > 0,
      ...(last ? { lastRunAt: Math.max(last.createdAt, last.startedAt ?? 0, last.finishedAt ?? 0) } : {}),
    };
  };
}
