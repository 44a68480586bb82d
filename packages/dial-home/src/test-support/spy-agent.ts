import type { AgentRun, CodeAgent } from '@forge/core';

/** Wraps an agent to keep every run the platform starts on it (the agent-side runs). */
export function spyAgent(inner: CodeAgent): { agent: CodeAgent; runs: AgentRun[] } {
  const runs: AgentRun[] = [];
  const agent: CodeAgent = {
    provider: inner.provider,
    capabilities: () => inner.capabilities(),
    execute(input, options) {
      const run = inner.execute(input, options);
      runs.push(run);
      return run;
    },
    cancel: (id) => inner.cancel(id),
    close: () => inner.close?.() ?? Promise.resolve(),
  };
  return { agent, runs };
}
