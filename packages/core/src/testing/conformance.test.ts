import { afterAll, describe, expect } from 'vitest';
import { describeCodeAgentConformance } from './conformance.js';
import { conformanceScript } from './conformance-script.js';
import { scriptedAgent } from './scripted-agent.js';

describeCodeAgentConformance('scriptedAgent', {
  makeAgent: (scenario) => scriptedAgent({ steps: conformanceScript(scenario) }),
});

describeCodeAgentConformance('scriptedAgent that declares the run policies', {
  makeAgent: (scenario) =>
    scriptedAgent({
      steps: conformanceScript(scenario),
      capabilities: { approvals: true, questionDeadlines: true, budget: true },
    }),
  deadlineMs: 100,
});

describeCodeAgentConformance('scriptedAgent with delays', {
  makeAgent: (scenario) =>
    scriptedAgent({
      steps:
        scenario === 'hang'
          ? [{ delayMs: 5 }, ...conformanceScript('complete').slice(0, 1), { delayMs: 10_000 }]
          : conformanceScript(scenario).flatMap((s) => [{ delayMs: 2 }, s]),
    }),
});

describeCodeAgentConformance('scriptedAgent that takes no answers', {
  makeAgent: (scenario) =>
    scriptedAgent({
      steps: conformanceScript(scenario === 'complete' ? 'complete' : 'hang'),
      capabilities: { permissionReplies: false, questions: false },
    }),
});

// One agent per scenario for the whole suite, the way the real-program suites run an ACP agent process: each
// scenario's agent is made once, and every one is closed when the suite ends.
describe('shareAgents', () => {
  const made: string[] = [];
  let closed = 0;
  afterAll(() => {
    expect([...made].sort()).toEqual([...new Set(made)].sort());
    expect(made.length).toBeGreaterThan(0);
    expect(closed).toBe(made.length);
  });
  describeCodeAgentConformance('scriptedAgent shared by the suite', {
    makeAgent: (scenario) => {
      made.push(scenario);
      const agent = scriptedAgent({ steps: conformanceScript(scenario) });
      return { ...agent, close: () => agent.close!().then(() => void closed++) };
    },
    shareAgents: true,
    concurrent: true,
  });
});
