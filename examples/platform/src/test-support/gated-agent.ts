import { createCodeAgent, defaultCapabilities, type AgentResult, type CodeAgent } from '@forge/core';

/**
 * An agent for handover tests (a pod's or a remote agent's own agent): three events, a wait for the test
 * (`release`), then two more and the end. `reached` resolves at the wait; `results` holds every run's result,
 * so a test can tell that the agent ran the message once.
 */
export function gatedAgent(sessionId: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let halfway!: () => void;
  const reached = new Promise<void>((resolve) => (halfway = resolve));
  const results: AgentResult[] = [];
  const agent: CodeAgent = createCodeAgent({
    provider: 'scripted',
    declared: defaultCapabilities({ textDeltas: true }),
    async run(ctx) {
      ctx.emit({ type: 'session.started', sessionId });
      ctx.emit({ type: 'text.delta', text: 'a ' });
      ctx.emit({ type: 'text.delta', text: 'b ' });
      halfway();
      await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      // Core ends a cancelled run cancelled, whatever is returned.
      if (ctx.signal.aborted) return { text: '' };
      ctx.emit({ type: 'text.delta', text: 'c ' });
      ctx.emit({ type: 'message', text: 'a b c' });
      return { text: 'a b c', turns: 1 };
    },
  });
  const execute = agent.execute.bind(agent);
  agent.execute = ((...args: Parameters<typeof execute>) => {
    const run = execute(...args);
    void run.result.then((r) => results.push(r));
    return run;
  }) as typeof agent.execute;
  return { agent, release, reached, results };
}
