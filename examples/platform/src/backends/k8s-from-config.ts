import type { Logger, ProviderRegistry, SessionStore } from '@forge/core';
import { createPodManager } from '@forge/k8s';
import { grpcAgent } from '@forge/transport-grpc';
import type { PlatformConfig } from '../config.js';
import type { AgentBackend } from './backend.js';
import { k8sBackend } from './k8s-backend.js';
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
): Promise<AgentBackend> {
  const pods = createPodManager({
    namespace: config.k8s.namespace,
    template: { image: config.k8s.image, agentPort: config.k8s.agentPort, envFromSecrets: config.k8s.envFromSecrets },
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
  return k8sBackend({
    // Pod start-up is timed (forge_pod_ready_seconds).
    pods: metrics ? meteredPods(pods, metrics) : pods,
    providers: AGENT_POD_PROVIDERS,
    // The pods' sessions are kept in the platform's store (the agent-pod saves and loads them over the run's stream).
    connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider, logger, ...(sessionStore ? { sessionStore } : {}) }),
    logger,
  });
}
