import type { AgentRequestInput, AgentRun, CodeAgent } from '@forge/core';

/** Wraps an agent so a test can see the runs the server started (and their results) and the requests it got. */
export function recordingAgent(agent: CodeAgent): {
  agent: CodeAgent;
  runs: AgentRun[];
  requests: AgentRequestInput[];
  nextRun(): Promise<AgentRun>;
} {
  const runs: AgentRun[] = [];
  const requests: AgentRequestInput[] = [];
  let waiters: Array<(r: AgentRun) => void> = [];
  const wrapped: CodeAgent = {
    provider: agent.provider,
    capabilities: () => agent.capabilities(),
    cancel: (id) => agent.cancel(id),
    close: () => agent.close?.() ?? Promise.resolve(),
    execute(request, options) {
      requests.push(request);
      const run = agent.execute(request, options);
      runs.push(run);
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve(run);
      return run;
    },
  };
  return {
    agent: wrapped,
    runs,
    requests,
    nextRun: () => new Promise((resolve) => waiters.push(resolve)),
  };
}
