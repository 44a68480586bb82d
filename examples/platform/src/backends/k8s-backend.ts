import {
  ValidationError,
  silentLogger,
  type AgentCapabilities,
  type AttachOptions,
  type CodeAgent,
  type Logger,
} from '@forge/core';
import type { PodId, PodManager, PodSummary } from '@forge/k8s';
import {
  newAgentId,
  unreachable,
  type AgentBackend,
  type AgentLogsOptions,
  type AgentPhase,
  type AgentRecord,
  type CreateAgentInput,
} from './backend.js';

/** The parts of `@forge/k8s`'s PodManager this backend uses (a stand-in implements just these in tests). */
export type PodManagerLike = Pick<
  PodManager,
  'createPod' | 'waitForPodReady' | 'findPod' | 'getPodAddress' | 'listPods' | 'deletePod'
> &
  Partial<Pick<PodManager, 'workspaceAttach' | 'podLogs'>>;

/** A CodeAgent reached over the network (grpcAgent from @forge/transport-grpc fits). */
export interface RemoteCodeAgent extends CodeAgent {
  status?(): Promise<{ provider: string; runsInFlight: number; draining: boolean; capabilities?: AgentCapabilities }>;
  close(): Promise<void>;
}

export interface K8sBackendOptions {
  pods: PodManagerLike;
  /** Builds the agent for a pod's address, e.g. `(url, provider) => grpcAgent({ baseUrl: url, provider })`. */
  connect(address: string, provider: string): RemoteCodeAgent;
  /** Providers an agent pod may be created with (the pod image serves FORGE_PROVIDER). */
  providers: string[];
  /** The pod manager's label prefix. Default `forge.dev`. */
  labelPrefix?: string;
  logger?: Logger;
}

function phaseOf(pod: PodSummary): AgentPhase {
  if (pod.deletingSince) return 'Terminating';
  const p = pod.phase;
  return p === 'Pending' || p === 'Running' || p === 'Succeeded' || p === 'Failed' ? p : 'Unknown';
}

/**
 * Each agent is a pod: Kubernetes is asked what exists on every call (labels and annotations carry
 * user, agent and provider), and messages go to the pod over gRPC. Connections are cached per pod
 * address and closed on delete.
 */
export function k8sBackend(options: K8sBackendOptions): AgentBackend {
  const providerKey = `${options.labelPrefix ?? 'forge.dev'}/provider`;
  const logger = options.logger ?? silentLogger;
  const connections = new Map<string, { address: string; agent: RemoteCodeAgent }>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;

  const recordOf = (pod: PodSummary): AgentRecord => ({
    userId: pod.userId,
    agentId: pod.agentId,
    provider: pod.annotations[providerKey] ?? 'grpc',
    phase: phaseOf(pod),
    ready: pod.ready && !pod.deletingSince,
    createdAt: pod.createdAt?.getTime() ?? 0,
    podName: pod.name,
    ...(pod.podIP ? { podIp: pod.podIP } : {}),
  });

  const drop = async (id: PodId) => {
    const c = connections.get(key(id));
    connections.delete(key(id));
    await c?.agent.close().catch(() => {});
  };

  const backend: AgentBackend = {
    kind: 'k8s',
    async create(input: CreateAgentInput) {
      if (!options.providers.includes(input.provider)) {
        throw new ValidationError(
          'UNKNOWN_PROVIDER',
          `No provider "${input.provider}" (known: ${options.providers.join(', ')})`,
          [{ path: 'provider', code: 'UNKNOWN_PROVIDER', message: `one of ${options.providers.join(', ')}` }],
        );
      }
      const id = { userId: input.userId, agentId: newAgentId() };
      await options.pods.createPod(id, {
        env: { FORGE_PROVIDER: input.provider },
        annotations: { [providerKey]: input.provider },
      });
      try {
        const pod = await options.pods.waitForPodReady(id, {
          timeoutMs: input.timeoutMs,
          ...(input.signal ? { signal: input.signal } : {}),
        });
        return { ...recordOf(pod), provider: input.provider };
      } catch (error) {
        // A pod that never became ready is not left behind to count against the user's cap.
        await options.pods
          .deletePod(id, { graceful: false, gracePeriodSeconds: 0 })
          .catch((e: unknown) =>
            logger.warn('could not delete a pod that failed to start', { ...id, error: String(e) }),
          );
        throw error;
      }
    },
    async get(userId, agentId) {
      const pod = await options.pods.findPod({ userId, agentId });
      return pod && recordOf(pod);
    },
    async status(agent) {
      // The pod may be Running while the agent in it is not serving: ask it over gRPC.
      try {
        const remote = (await backend.agentFor(agent)) as RemoteCodeAgent;
        if (!remote.status) return { reachable: true, provider: agent.provider };
        const s = await remote.status();
        return {
          reachable: true,
          provider: s.provider,
          runsInFlight: s.runsInFlight,
          draining: s.draining,
          ...(s.capabilities
            ? { capabilities: s.capabilities, ...(s.capabilities.version ? { version: s.capabilities.version } : {}) }
            : {}),
        };
      } catch (error) {
        return unreachable(error);
      }
    },
    async list(userId) {
      const pods = await options.pods.listPods(userId);
      return pods.map(recordOf).sort((a, b) => a.createdAt - b.createdAt || a.agentId.localeCompare(b.agentId));
    },
    async delete(userId, agentId, opts = {}) {
      const id = { userId, agentId };
      if (!(await options.pods.findPod(id))) return false;
      await drop(id);
      // graceful: the pod manager's shutdownHook asks the agent to drain first (see k8s-from-config.ts);
      // otherwise the pod goes at once.
      const result = await options.pods.deletePod(
        id,
        opts.graceful ? { graceful: true } : { graceful: false, gracePeriodSeconds: 0 },
      );
      return result.deleted;
    },
    async agentFor(agent) {
      const id = { userId: agent.userId, agentId: agent.agentId };
      const address = await options.pods.getPodAddress(id);
      const cached = connections.get(key(id));
      // A pod recreated under the same id gets a new IP: reconnect.
      if (cached && cached.address === address) return cached.agent;
      if (cached) await drop(id);
      const remote = options.connect(address, agent.provider);
      connections.set(key(id), { address, agent: remote });
      return remote;
    },
    // A terminal in the agent's pod: exec with tty and the resize channel, where the manager can.
    ...(options.pods.workspaceAttach
      ? {
          attach: (agent: AgentRecord, attachOptions: AttachOptions) =>
            options.pods.workspaceAttach!({ userId: agent.userId, agentId: agent.agentId }).open(attachOptions),
        }
      : {}),
    // The pod's log (its agent's stdout and stderr), through the API server.
    ...(options.pods.podLogs
      ? {
          logs: (agent: AgentRecord, o: AgentLogsOptions) =>
            options.pods.podLogs!({ userId: agent.userId, agentId: agent.agentId }, o),
        }
      : {}),
    async close() {
      await Promise.all([...connections.values()].map((c) => c.agent.close().catch(() => {})));
      connections.clear();
    },
  };
  return backend;
}
