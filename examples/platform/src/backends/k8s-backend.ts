import { ValidationError, silentLogger, type AgentCapabilities, type CodeAgent, type Logger } from '@forge/core';
import { newAgentId, unreachable, type AgentBackend, type AgentPhase, type AgentRecord, type CreateAgentInput } from './backend.js';

/** A pod's identity in @forge/k8s: one pod per (user, agent). */
export interface PodId {
  userId: string;
  agentId: string;
}

/** The parts of a Kubernetes V1Pod this backend reads. */
export interface PodLike {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: Date | string; deletionTimestamp?: Date | string };
  status?: { phase?: string; podIP?: string; containerStatuses?: Array<{ ready?: boolean }> };
}

/**
 * What the platform needs of `@forge/k8s`'s `createPodManager(...)` (issue 6), typed structurally so
 * this backend can be tested with a fake and does not depend on that package's unfinished surface.
 */
export interface PodManagerLike {
  createPod(id: PodId, options?: { env?: Record<string, string>; annotations?: Record<string, string> }): Promise<unknown>;
  waitForPodReady(id: PodId, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>;
  getPod(id: PodId): Promise<PodLike | undefined>;
  getPodAddress(id: PodId): Promise<string>;
  listPods(userId: string): Promise<PodLike[]>;
  deletePod(id: PodId, options?: { graceful?: boolean; gracePeriodSeconds?: number }): Promise<unknown>;
}

/** A CodeAgent reached over the network (grpcAgent from @forge/transport-grpc fits). */
export interface RemoteCodeAgent extends CodeAgent {
  status?(): Promise<{ provider: string; runsInFlight: number; draining: boolean; capabilities?: AgentCapabilities }>;
  shutdown?(options?: { graceful?: boolean }): Promise<unknown>;
  close(): Promise<void>;
}

export interface K8sBackendOptions {
  pods: PodManagerLike;
  /** Builds the agent for a pod's address, e.g. `(url, provider) => grpcAgent({ baseUrl: url, provider })`. */
  connect(address: string, provider: string): RemoteCodeAgent;
  /** Providers an agent pod may be created with (the pod image serves FORGE_PROVIDER). */
  providers: string[];
  /** Label prefix of @forge/k8s. Default `forge.dev`. */
  labelPrefix?: string;
  logger?: Logger;
}

const PROVIDER_ANNOTATION = 'provider';

function phaseOf(pod: PodLike): AgentPhase {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const p = pod.status?.phase;
  return p === 'Pending' || p === 'Running' || p === 'Succeeded' || p === 'Failed' ? p : 'Unknown';
}

function readyOf(pod: PodLike): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return phaseOf(pod) === 'Running' && !!pod.status?.podIP && statuses.length > 0 && statuses.every((s) => s.ready);
}

/**
 * Each agent is a pod: Kubernetes is asked what exists on every call (labels carry user and agent),
 * and messages go to the pod over gRPC. Connections are cached per agent and closed on delete.
 */
export function k8sBackend(options: K8sBackendOptions): AgentBackend {
  const prefix = options.labelPrefix ?? 'forge.dev';
  const logger = options.logger ?? silentLogger;
  const connections = new Map<string, { address: string; agent: RemoteCodeAgent }>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;

  const recordOf = (userId: string, pod: PodLike): AgentRecord | undefined => {
    const labels = pod.metadata?.labels ?? {};
    const agentId = labels[`${prefix}/agent`];
    if (!agentId) return undefined;
    const created = pod.metadata?.creationTimestamp;
    return {
      userId,
      agentId,
      provider: pod.metadata?.annotations?.[`${prefix}/${PROVIDER_ANNOTATION}`] ?? labels[`${prefix}/provider`] ?? 'grpc',
      phase: phaseOf(pod),
      ready: readyOf(pod),
      createdAt: created ? new Date(created).getTime() : 0,
      ...(pod.metadata?.name ? { podName: pod.metadata.name } : {}),
      ...(pod.status?.podIP ? { podIp: pod.status.podIP } : {}),
    };
  };

  const drop = async (id: PodId) => {
    const c = connections.get(key(id));
    connections.delete(key(id));
    await c?.agent.close().catch(() => {});
  };

  return {
    kind: 'k8s',
    async create(input: CreateAgentInput) {
      if (!options.providers.includes(input.provider)) {
        throw new ValidationError('UNKNOWN_PROVIDER', `No provider "${input.provider}" (known: ${options.providers.join(', ')})`, [
          { path: 'provider', code: 'UNKNOWN_PROVIDER', message: `one of ${options.providers.join(', ')}` },
        ]);
      }
      const id = { userId: input.userId, agentId: newAgentId() };
      await options.pods.createPod(id, { env: { FORGE_PROVIDER: input.provider }, annotations: { [`${prefix}/${PROVIDER_ANNOTATION}`]: input.provider } });
      try {
        await options.pods.waitForPodReady(id, { timeoutMs: input.timeoutMs, ...(input.signal ? { signal: input.signal } : {}) });
      } catch (error) {
        // A pod that never became ready is not left behind to count against the user's cap.
        await options.pods.deletePod(id, { graceful: false }).catch((e: unknown) => logger.warn('could not delete a pod that failed to start', { ...id, error: String(e) }));
        throw error;
      }
      const pod = await options.pods.getPod(id);
      const record = pod && recordOf(input.userId, pod);
      if (!record) throw new Error(`pod of agent ${id.agentId} vanished after becoming ready`);
      return { ...record, provider: input.provider };
    },
    async get(userId, agentId) {
      const pod = await options.pods.getPod({ userId, agentId });
      return pod && recordOf(userId, pod);
    },
    async status(agent) {
      // The pod may be Running while the agent in it is not serving: ask it over gRPC.
      try {
        const remote = (await this.agentFor(agent)) as RemoteCodeAgent;
        if (!remote.status) return { reachable: true, provider: agent.provider };
        const s = await remote.status();
        return {
          reachable: true,
          provider: s.provider,
          runsInFlight: s.runsInFlight,
          draining: s.draining,
          ...(s.capabilities ? { capabilities: s.capabilities, ...(s.capabilities.version ? { version: s.capabilities.version } : {}) } : {}),
        };
      } catch (error) {
        return unreachable(error);
      }
    },
    async list(userId) {
      const pods = await options.pods.listPods(userId);
      return pods
        .map((p) => recordOf(userId, p))
        .filter((r): r is AgentRecord => r !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.agentId.localeCompare(b.agentId));
    },
    async delete(userId, agentId, opts = {}) {
      const id = { userId, agentId };
      const pod = await options.pods.getPod(id);
      if (!pod) return false;
      if (opts.graceful) {
        // Let the agent finish what it is doing; a failure here must not stop the delete.
        await connections.get(key(id))?.agent.shutdown?.({ graceful: true }).catch(() => {});
      }
      await drop(id);
      await options.pods.deletePod(id, { graceful: opts.graceful ?? false });
      return true;
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
    async close() {
      await Promise.all([...connections.values()].map((c) => c.agent.close().catch(() => {})));
      connections.clear();
    },
  };
}
