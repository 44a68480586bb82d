import {
  silentLogger,
  type AgentRequestInput,
  type AgentRun,
  type CodeAgent,
  type ExecuteOptions,
  type Logger,
} from '@forge/core';
import type { AgentBackend, AgentRecord } from '../backends/backend.js';
import { canPrewarm } from './prewarmable-agent.js';
import type { SpareKeeper, SpareRequest } from './spare-keeper.js';

export interface PrewarmingOptions {
  keeper: SpareKeeper;
  /**
   * The options a new session of `agent` runs with when its message sets none (its stored settings over the
   * operator's defaults): what its spare is shaped by before its first run.
   */
  defaultsOf: (agent: AgentRecord) => Promise<SpareRequest>;
  logger?: Logger;
}

/** The backend, and the event it cannot see itself: an agent's settings are stored after `create`. */
export interface PrewarmingBackend extends AgentBackend {
  /** The agent was created and its settings stored: keep a spare for its first session. Never throws. */
  created(agent: AgentRecord): Promise<void>;
  /** Ends every spare and starts none any more (the instance drains); `close()` does too. */
  stop(): void;
}

const keyOf = (agent: Pick<AgentRecord, 'userId' | 'agentId'>) => `${agent.userId}/${agent.agentId}`;

/**
 * A backend whose agents keep a spare process for their next new session (SpareKeeper), where the agent can
 * start one (`agent.prewarm`: claude-code through the local backend; a pod or a remote program does not, and is
 * served as before). An agent is active when created and when a run starts or ends on it; an ended run's
 * options shape the next spare (a new session with the same options takes it). A deleted agent's spare ends
 * before its workspace goes; `close()` ends every spare.
 */
export function prewarmingBackend(inner: AgentBackend, options: PrewarmingOptions): PrewarmingBackend {
  const { keeper } = options;
  const logger = options.logger ?? silentLogger;

  /** The agent's view, whose runs mark it active and shape its next spare as they end. */
  const watched = (record: AgentRecord, agent: CodeAgent): CodeAgent => {
    if (!canPrewarm(agent)) return agent;
    const key = keyOf(record);
    return {
      ...agent,
      execute(request: AgentRequestInput, executeOptions?: ExecuteOptions): AgentRun {
        const run = agent.execute(request, executeOptions);
        keeper.touch(key);
        // After the run, not beside it: a CLI starting takes the CPU the run's own turn needs.
        void run.result.then(
          () => keeper.keep(key, agent, request),
          () => {},
        );
        return run;
      },
    };
  };

  const backend: PrewarmingBackend = {
    kind: inner.kind,
    create: (input) => inner.create(input),
    get: (userId, agentId) => inner.get(userId, agentId),
    status: (agent) => inner.status(agent),
    list: (userId) => inner.list(userId),
    ...(inner.listAll ? { listAll: () => inner.listAll!() } : {}),
    async delete(userId, agentId, deleteOptions) {
      // Its spare ends before its workspace goes, and none starts for it again.
      keeper.forget(keyOf({ userId, agentId }));
      return inner.delete(userId, agentId, deleteOptions);
    },
    async agentFor(agent) {
      return watched(agent, await inner.agentFor(agent));
    },
    ...(inner.attach ? { attach: (agent, o) => inner.attach!(agent, o) } : {}),
    ...(inner.logs ? { logs: (agent, o) => inner.logs!(agent, o) } : {}),
    async created(agent) {
      try {
        const view = await inner.agentFor(agent);
        if (canPrewarm(view)) keeper.keep(keyOf(agent), view, await options.defaultsOf(agent));
      } catch (error) {
        logger.warn('could not prewarm a new agent', { agentId: agent.agentId, error: String(error) });
      }
    },
    stop: () => keeper.close(),
    async close() {
      keeper.close();
      await inner.close();
    },
  };
  return backend;
}
