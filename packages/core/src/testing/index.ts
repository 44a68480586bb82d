export { scriptedAgent, sampleScript, type ScriptStep, type ScriptedAgentOptions } from './scripted-agent.js';
export {
  fakeProcessRunner,
  type FakeProcessRunner,
  type FakeProcessScript,
  type FakeProcessCall,
  type OutputStep,
  type SignalReaction,
} from './fake-process-runner.js';
export { describeCodeAgentConformance, type ConformanceOptions, type ConformanceScenario } from './conformance.js';
export { collectRun, firstEvent, runProblems } from './collect.js';
export { delay } from './abortable-delay.js';
