import type { CodeAgent, Logger } from '@forge/core';
import { createLocalAgent } from '@forge/example-agent-host';
import { linkedSessionStore, type LinkedSessionStore } from '@forge/transport-grpc';
import type { PodConfig } from './config.js';
import { scriptedPodAgent } from './scripted.js';

/** The agent the pod serves, and what else it must stop on shutdown. */
export interface PodProvider {
  agent: CodeAgent;
  /**
   * The agent's session store: its sessions are saved to and loaded from the platform's store over the run's
   * gRPC stream (give it to serveAgent), so a conversation outlives the pod.
   */
  sessionStore: LinkedSessionStore;
  close(): Promise<void>;
}

const closer = (agent: CodeAgent) => async () => {
  await agent.close?.();
};

/**
 * Builds the provider named by FORGE_PROVIDER. Adapter packages are imported lazily, so a pod
 * only loads the one it serves.
 */
export async function createPodProvider(config: PodConfig, logger: Logger): Promise<PodProvider> {
  const sessionStore = linkedSessionStore();
  const agent =
    config.provider === 'scripted'
      ? scriptedPodAgent()
      : await createLocalAgent({ ...config, provider: config.provider }, { logger, sessionStore });
  return { agent, sessionStore, close: closer(agent) };
}
