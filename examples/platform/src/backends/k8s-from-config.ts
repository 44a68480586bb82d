import { ForgeError, type Logger, type ProviderRegistry } from '@forge/core';
import { grpcAgent } from '@forge/transport-grpc';
import type { PlatformConfig } from '../config.js';
import type { AgentBackend } from './backend.js';
import { k8sBackend, type PodManagerLike } from './k8s-backend.js';

/**
 * The k8s backend wired from configuration: `@forge/k8s`'s pod manager (imported lazily, so local mode
 * never loads the Kubernetes client) and gRPC to the agent-pod image (examples/agent-pod).
 */
export const AGENT_POD_PROVIDERS = ['claude-code', 'opencode', 'scripted'];

export async function k8sBackendFromConfig(config: PlatformConfig, _registry: ProviderRegistry, logger: Logger): Promise<AgentBackend> {
  const k8s = (await import('@forge/k8s')) as unknown as { createPodManager?: (options: Record<string, unknown>) => PodManagerLike };
  if (typeof k8s.createPodManager !== 'function') {
    throw new ForgeError('K8S_UNAVAILABLE', 'This build of @forge/k8s has no createPodManager; the k8s backend cannot start', 'internal');
  }
  const pods = k8s.createPodManager({
    namespace: config.k8s.namespace,
    template: { image: config.k8s.image, agentPort: config.k8s.agentPort },
    logger,
  });
  return k8sBackend({
    pods,
    // What the agent-pod image serves (its FORGE_PROVIDER).
    providers: AGENT_POD_PROVIDERS,
    connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider, logger }),
    logger,
  });
}
