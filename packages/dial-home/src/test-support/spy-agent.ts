import type { AgentRequestInput, AgentRun, CodeAgent } from '@forge/core';

/** Wraps an agent to keep every run the platform starts on it (the agent-side runs) and every request it got. */
export function spyAgent(inner: CodeAgent): { agent: CodeAgent; runs: AgentRun[]; requests: AgentRequestInput[] } {
  const runs: AgentRun[] = [];
  const requests: AgentRequestInput[] = [];
  const agent: CodeAgent = {
    provider: inner.provider,
    capabilities: () => inner.capabilities(),
    execute(input, options) {
      requests.push(input);
      const run = inner.execute(input, options);
      runs.push(run);
      return run;
    },
    cancel: (id) => inner.cancel(id),
    close: () => inner.close?.() ?? Promise.resolve(),
  };
  return { agent, runs, requests };
}
