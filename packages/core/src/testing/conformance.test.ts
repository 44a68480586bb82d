import { describeCodeAgentConformance } from './conformance.js';
import { sampleScript, scriptedAgent } from './scripted-agent.js';

describeCodeAgentConformance('scriptedAgent', {
  makeAgent: (scenario) =>
    scriptedAgent({
      steps: scenario === 'complete' ? sampleScript() : [...sampleScript().slice(0, 2), { hang: true }],
    }),
});

describeCodeAgentConformance('scriptedAgent with delays', {
  makeAgent: (scenario) =>
    scriptedAgent({
      steps:
        scenario === 'complete'
          ? sampleScript().flatMap((s) => [{ delayMs: 2 }, s])
          : [{ delayMs: 5 }, ...sampleScript().slice(0, 1), { delayMs: 10_000 }],
    }),
});
