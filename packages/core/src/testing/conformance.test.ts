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
