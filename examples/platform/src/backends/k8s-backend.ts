import {
  ValidationError,
  silentLogger,
  type AgentCapabilities,
  type AttachOptions,
  type CodeAgent,
  type Logger,
} from '@forge/core';
import type { PodId, PodManager, PodSummary } from '@forge/k8s';
import type { ParkedAgent, ParkedAgents } from '@forge/store';
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
  Partial<Pick<PodManager, 'workspaceAttach' | 'podLogs' | 'listAllPods'>>;

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
  /** Images agents may be created with, by name (FORGE_K8S_IMAGES); any other `image` is IMAGE_NOT_ALLOWED. */
  images?: Record<string, string>;
  /**
   * Agents whose pod was removed while idle (the platform's store): they stay listed as phase Idle, and their
   * next message (or terminal) makes a new pod from the row. Without it an agent is its pod, nothing more.
   */
  parked?: Pick<ParkedAgents, 'get' | 'list' | 'remove'>;
  /** How long making a parked agent's pod may take. Default 120 s. */
  wakeTimeoutMs?: number;
}

/** Annotations the backend writes on its pods (under the manager's label prefix). */
export const podAnnotations = (prefix = 'forge.dev') => ({
  provider: `${prefix}/provider`,
  image: `${prefix}/image`,
  /** The agent's creation time (epoch ms): a pod made again for a parked agent keeps it. */
  createdAt: `${prefix}/agent-created-at`,
});

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
  const keys = podAnnotations(options.labelPrefix);
  const logger = options.logger ?? silentLogger;
  const images = options.images ?? {};
  const parked = options.parked;
  const connections = new Map<string, { address: string; agent: RemoteCodeAgent }>();
  const waking = new Map<string, Promise<void>>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;

  const recordOf = (pod: PodSummary): AgentRecord => {
    const created = Number(pod.annotations[keys.createdAt]);
    const image = pod.annotations[keys.image];
    return {
      userId: pod.userId,
      agentId: pod.agentId,
      provider: pod.annotations[keys.provider] ?? 'grpc',
      phase: phaseOf(pod),
      ready: pod.ready && !pod.deletingSince,
      createdAt: Number.isFinite(created) && created > 0 ? created : (pod.createdAt?.getTime() ?? 0),
      podName: pod.name,
      ...(pod.podIP ? { podIp: pod.podIP } : {}),
      ...(image ? { image } : {}),
    };
  };
  const parkedRecord = (p: ParkedAgent): AgentRecord => ({
    userId: p.userId,
    agentId: p.agentId,
    provider: p.provider,
    // Ready: a message is taken, and makes the pod first.
    phase: 'Idle',
    ready: true,
    createdAt: p.createdAt,
    ...(p.image ? { image: p.image } : {}),
  });

  /** What a pod of this agent is made from (the first one, or one made again after it was parked). */
  const podOptions = (provider: string, image: string | undefined, createdAt: number) => ({
    env: { FORGE_PROVIDER: provider },
    annotations: {
      [keys.provider]: provider,
      [keys.createdAt]: String(createdAt),
      ...(image ? { [keys.image]: image } : {}),
    },
    ...(image ? { image: images[image]! } : {}),
  });

  /**
   * Makes a parked agent's pod again and waits until it is ready; one at a time per agent here, and a pod another
   * replica made first is simply waited for. The row goes once the pod is ready.
   */
  async function wake(id: PodId): Promise<void> {
    const timeoutMs = options.wakeTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const row = await parked?.get(id.userId, id.agentId);
    if (!row) throw Object.assign(new Error(`No agent ${id.agentId}`), { code: 'AGENT_NOT_FOUND' });
    // The reaper's delete may still be under way: a pod that is going is waited out, not reused.
    for (let pod = await options.pods.findPod(id); pod?.deletingSince; pod = await options.pods.findPod(id)) {
      if (Date.now() > deadline) throw new Error(`The old pod of ${id.agentId} is still terminating`);
      await new Promise((r) => setTimeout(r, 500));
    }
    if (row.image !== undefined && !Object.hasOwn(images, row.image))
      throw new ValidationError('IMAGE_NOT_ALLOWED', `Image "${row.image}" is no longer in FORGE_K8S_IMAGES`);
    await options.pods.createPod(id, podOptions(row.provider, row.image, row.createdAt)).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'K8S_ALREADY_EXISTS') throw error;
    });
    await options.pods.waitForPodReady(id, { timeoutMs: Math.max(1, deadline - Date.now()) });
    // A connection to the reaped pod is dead even if the new pod got the same address back.
    await drop(id);
    await parked?.remove(id.userId, id.agentId);
    logger.info('pod made again for an idle agent', { ...id, provider: row.provider });
  }

  /** The agent's pod, made again first when it was parked. */
  async function awake(id: PodId): Promise<void> {
    if (!parked) return;
    const pod = await options.pods.findPod(id);
    if (pod && !pod.deletingSince) return;
    const k = key(id);
    let pending = waking.get(k);
    if (!pending) {
      pending = wake(id).finally(() => waking.delete(k));
      waking.set(k, pending);
    }
    await pending;
  }

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
      if (input.image !== undefined && !Object.hasOwn(images, input.image)) {
        const names = Object.keys(images);
        const message = names.length
          ? `No image "${input.image}" in the operator's list (${names.join(', ')})`
          : 'This platform offers no images to choose from (FORGE_K8S_IMAGES is not set)';
        throw new ValidationError('IMAGE_NOT_ALLOWED', message, [
          { path: 'image', code: 'IMAGE_NOT_ALLOWED', message },
        ]);
      }
      const id = { userId: input.userId, agentId: newAgentId() };
      await options.pods.createPod(id, podOptions(input.provider, input.image, Date.now()));
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
      // A pod the reaper is removing belongs to a parked agent already.
      const row = (!pod || pod.deletingSince) && parked ? await parked.get(userId, agentId) : undefined;
      if (row) return parkedRecord(row);
      return pod && recordOf(pod);
    },
    async status(agent) {
      if (agent.phase === 'Idle')
        return unreachable({
          code: 'AGENT_IDLE',
          message: `The pod of ${agent.agentId} was removed while idle; the next message makes a new one`,
        });
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
      const [pods, rows] = await Promise.all([options.pods.listPods(userId), parked?.list(userId) ?? []]);
      const parkedIds = new Map(rows.map((r) => [r.agentId, r]));
      const live = pods.filter((p) => !(p.deletingSince && parkedIds.has(p.agentId)));
      const withPod = new Set(live.map((p) => p.agentId));
      return [...live.map(recordOf), ...rows.filter((r) => !withPod.has(r.agentId)).map(parkedRecord)].sort(
        (a, b) => a.createdAt - b.createdAt || a.agentId.localeCompare(b.agentId),
      );
    },
    ...(options.pods.listAllPods ? { listAll: async () => (await options.pods.listAllPods!()).map(recordOf) } : {}),
    async delete(userId, agentId, opts = {}) {
      const id = { userId, agentId };
      const wasParked = (await parked?.remove(userId, agentId)) ?? false;
      if (!(await options.pods.findPod(id))) return wasParked;
      await drop(id);
      // graceful: the pod manager's shutdownHook asks the agent to drain first (see k8s-from-config.ts);
      // otherwise the pod goes at once.
      const result = await options.pods.deletePod(
        id,
        opts.graceful ? { graceful: true } : { graceful: false, gracePeriodSeconds: 0 },
      );
      return result.deleted || wasParked;
    },
    async agentFor(agent) {
      const id = { userId: agent.userId, agentId: agent.agentId };
      await awake(id);
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
          attach: async (agent: AgentRecord, attachOptions: AttachOptions) => {
            const id = { userId: agent.userId, agentId: agent.agentId };
            await awake(id);
            return options.pods.workspaceAttach!(id).open(attachOptions);
          },
        }
      : {}),
    // The pod's log (its agent's stdout and stderr), through the API server.
    ...(options.pods.podLogs
      ? {
          // A parked agent has no pod, so no log: an empty one.
          logs: (agent: AgentRecord, o: AgentLogsOptions) =>
            agent.phase === 'Idle'
              ? (async function* () {})()
              : options.pods.podLogs!({ userId: agent.userId, agentId: agent.agentId }, o),
        }
      : {}),
    async close() {
      await Promise.all([...connections.values()].map((c) => c.agent.close().catch(() => {})));
      connections.clear();
    },
  };
  return backend;
}
