import type { AgentRequestInput, AgentRun, CodeAgent, ExecuteOptions } from '@forge/core';
import { canPrewarm, type PrewarmableAgent } from '../prewarm/prewarmable-agent.js';
import type { HandoverAgent } from '../runs/run-handover.js';

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
    // A provider whose runs go on without this instance (a remote agent) hands them over through the view too.
    ...handover(agent),
    // The provider is shared and owned by the registry; closing one agent's view must not close it.
  };
  if (!canPrewarm(agent)) return view;
  // A spare for this agent is started where its runs run.
  const prewarm: PrewarmableAgent['prewarm'] = (request, options) => agent.prewarm({ ...request, cwd }, options);
  return Object.assign(view, { prewarm });
}

function handover(agent: CodeAgent): Partial<HandoverAgent> {
  const a = agent as CodeAgent & Partial<HandoverAgent>;
  if (typeof a.detach !== 'function' || typeof a.attach !== 'function') return {};
  return {
    detach: (runId) => a.detach!(runId),
    attach: (runId, options) => a.attach!(runId, options),
    ...(a.canAttach ? { canAttach: (runId: string) => a.canAttach!(runId) } : {}),
  };
}
