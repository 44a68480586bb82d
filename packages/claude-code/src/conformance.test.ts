import { describeCodeAgentConformance, type ConformanceScenario } from '@forge/core/testing/conformance';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner, type FakeClaudeStep } from './testing/index.js';

/** What the scripted CLI plays for each scenario; it asks and waits for answers over the control protocol. */
const steps: Record<ConformanceScenario, (prompt: string) => FakeClaudeStep[]> = {
  complete: (prompt) => [{ text: `You said: ${prompt}` }],
  hang: () => [{ text: 'Working on it' }, { hang: true }],
  permission: () => [{ tool: 'Write', input: { file_path: '/work/a.txt', content: 'a' } }, { text: 'Done.' }],
  question: () => [
    { ask: [{ question: 'Which color?', options: [{ label: 'Red' }, { label: 'Blue' }] }] },
    { text: 'Noted.' },
  ],
};

// The CLI answers `interrupt` with a result and stays up, as the real one does.
describeCodeAgentConformance('claudeCode over a scripted CLI (control protocol)', {
  makeAgent: (scenario) => claudeCode({ runner: fakeClaudeRunner({ turn: steps[scenario] }) }),
});

// A CLI deaf to `interrupt` and to SIGINT/SIGTERM: cancel must still end the run, through SIGKILL.
describeCodeAgentConformance('claudeCode over a scripted CLI that answers neither interrupt nor signals', {
  makeAgent: (scenario) =>
    claudeCode({
      sigintGraceMs: 30,
      sigtermGraceMs: 30,
      runner: fakeClaudeRunner({ turn: steps[scenario], deafToInterrupt: true, deafToSignals: true }),
    }),
});
