import type { ForgeStore } from '@forge/store';
import { agentState, type AgentBackend } from '../backends/backend.js';
import type { RemoteAgents } from '../remote-agents.js';
import type { WebhookDispatcherPort } from '../webhook-port.js';
import { meteredStore } from './metered-store.js';
import { meteredWebhooks } from './metered-webhooks.js';
import type { PlatformMetrics } from './platform-metrics.js';

/** How app.ts puts the metrics into the platform's parts, in one place. */
export const instrumentPlatform = {
  store: (store: ForgeStore, metrics: PlatformMetrics) => meteredStore(store, metrics),
  webhooks: (port: WebhookDispatcherPort, metrics: PlatformMetrics) => meteredWebhooks(port, metrics),
  /** The gauges read at each scrape: the store's queue, the backend's agents, the hub's online agents. */
  sources(
    metrics: PlatformMetrics,
    parts: { store: ForgeStore; backend: AgentBackend; remote: RemoteAgents | undefined },
  ): void {
    const { store, backend, remote } = parts;
    metrics.setSources({
      queueDepth: () => store.runs.queuedCount(),
      ...(backend.listAll
        ? {
            agents: async () =>
              (await backend.listAll!()).map((a) => ({ backend: backend.kind, state: agentState(a) })),
          }
        : {}),
      ...(remote
        ? { remoteAgentsOnline: async () => (await remote.list()).filter((a) => a.status === 'online').length }
        : {}),
    });
  },
};
