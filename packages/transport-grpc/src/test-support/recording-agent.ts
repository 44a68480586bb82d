import type { AgentRun, CodeAgent } from '@forge/core';

/** Wraps an agent so a test can see the runs the server started (and their results). */
export function recordingAgent(agent: CodeAgent): { agent: CodeAgent; runs: AgentRun[]; nextRun(): Promise<AgentRun> } {
  const runs: AgentRun[] = [];
  let waiters: Array<(r: AgentRun) => void> = [];
  const wrapped: CodeAgent = {
    provider: agent.provider,
    capabilities: () => agent.capabilities(),
    cancel: (id) => agent.cancel(id),
    close: () => agent.close?.() ?? Promise.resolve(),
    execute(request, options) {
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
    nextRun: () => new Promise((resolve) => waiters.push(resolve)),
  };
}
