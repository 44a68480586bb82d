import type { AgentCapabilities, AttachOptions, AttachedProcess, CodeAgent } from '@forge/core';

/**
 * Kubernetes-style pod phase; the local backend uses Running (ready) and Failed (its directory is gone). Idle: a
 * k8s agent whose pod was removed while idle (FORGE_K8S_IDLE_TTL); it is ready, its next message makes a new pod.
 */
export type AgentPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown' | 'Terminating' | 'Idle';

/** What the dashboard shows. */
export type AgentState = 'ready' | 'starting' | 'gone';

/** One agent as its backend reports it; the API's JSON is this in snake_case. */
export interface AgentRecord {
  userId: string;
  agentId: string;
  provider: string;
  phase: AgentPhase;
  ready: boolean;
  /** Epoch ms. */
  createdAt: number;
  podName?: string;
  podIp?: string;
  /** The operator's image name it was created with (FORGE_K8S_IMAGES); undefined: the default image. */
  image?: string;
}

/** What the agent itself says, asked live (`GET /agents/:id?refresh=true`). */
export interface AgentLiveStatus {
  /** It answered. */
  reachable: boolean;
  provider?: string;
  version?: string;
  runsInFlight?: number;
  /** It is shutting down and takes no new runs. */
  draining?: boolean;
  capabilities?: AgentCapabilities;
  /** Why it could not be asked. */
  error?: { code: string; message: string };
}

export interface CreateAgentInput {
  userId: string;
  provider: string;
  /** An image name from the operator's allow-list (k8s backend); others refuse it (IMAGE_NOT_ALLOWED). */
  image?: string;
  signal?: AbortSignal;
  /** Bound on waiting for the agent to be ready. */
  timeoutMs: number;
}

export interface AgentLogsOptions {
  /** How many of the latest lines to start with (the route bounds it). */
  tail: number;
  /** Keep going with new lines until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
}

/**
 * Where agents live. The backend is the source of truth for which agents exist — the platform keeps
 * no registry of its own — so a restart loses nothing and two platform processes agree.
 */
export interface AgentBackend {
  readonly kind: string;
  /** Creates an agent and waits (bounded) until it is ready. */
  create(input: CreateAgentInput): Promise<AgentRecord>;
  /** Undefined when the user has no such agent. */
  get(userId: string, agentId: string): Promise<AgentRecord | undefined>;
  /** Asks the agent itself how it is (its program's version, capabilities, runs in flight). Never throws. */
  status(agent: AgentRecord): Promise<AgentLiveStatus>;
  list(userId: string): Promise<AgentRecord[]>;
  /** Every user's agents (the metrics' census); absent where the backend cannot list them all. */
  listAll?(): Promise<AgentRecord[]>;
  /** False when there was no such agent. */
  delete(userId: string, agentId: string, options?: { graceful?: boolean }): Promise<boolean>;
  /** The CodeAgent that runs this agent's messages (its working directory or pod already bound). */
  agentFor(agent: AgentRecord): Promise<CodeAgent>;
  /** A process in the agent's workspace, for a person (the attach endpoint); absent where the backend has none. */
  attach?(agent: AgentRecord, options: AttachOptions): Promise<AttachedProcess>;
  /**
   * The agent's log lines (its program's stderr, its pod's log), oldest first, without line ends: the last
   * `tail`, then, with `follow`, new ones as they come until `signal` aborts. Absent where the backend keeps none.
   */
  logs?(agent: AgentRecord, options: AgentLogsOptions): AsyncIterable<string>;
  close(): Promise<void>;
}

export function agentState(agent: Pick<AgentRecord, 'phase' | 'ready'>): AgentState {
  if (agent.ready) return 'ready';
  return agent.phase === 'Pending' ? 'starting' : agent.phase === 'Running' ? 'starting' : 'gone';
}

export function unreachable(error: unknown): AgentLiveStatus {
  const e = error as { code?: unknown; message?: unknown };
  return {
    reachable: false,
    error: {
      code: typeof e?.code === 'string' ? e.code : 'UNREACHABLE',
      message: typeof e?.message === 'string' ? e.message : String(error),
    },
  };
}

export const AGENT_ID = /^agt_[a-z0-9]{12,40}$/;

export const newAgentId = (): string => `agt_${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
