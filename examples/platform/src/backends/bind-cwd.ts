import type { AgentRequestInput, AgentRun, CodeAgent, ExecuteOptions } from '@forge/core';
import { canPrewarm, type PrewarmableAgent } from '../prewarm/prewarmable-agent.js';

/**
 * A view of a shared provider whose runs all happen in one directory: the agent's workspace wins
 * over any `cwd` a request names, so one user's agent cannot be pointed at another's files.
 */
export function bindCwd(agent: CodeAgent, cwd: string): CodeAgent {
  const view: CodeAgent = {
    provider: agent.provider,
    capabilities: () => agent.capabilities(),
    execute: (request: AgentRequestInput, options?: ExecuteOptions): AgentRun =>
      agent.execute({ ...request, cwd }, options),
    cancel: (runId) => agent.cancel(runId),
    // The provider is shared and owned by the registry; closing one agent's view must not close it.
  };
  if (!canPrewarm(agent)) return view;
  // A spare for this agent is started where its runs run.
  const prewarm: PrewarmableAgent['prewarm'] = (request, options) => agent.prewarm({ ...request, cwd }, options);
  return Object.assign(view, { prewarm });
}
