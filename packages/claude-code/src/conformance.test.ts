import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { fakeProcessRunner } from '@forge/core/testing';
import { claudeCode } from './agent.js';
import { fixture, initLine, interruptedLines } from './test-support.js';

// `complete` replays a recorded run of the real CLI (with partial messages); `hang` starts a run
// that only ends on a signal, answering SIGINT as the real CLI does (error result, exit 0).
describeCodeAgentConformance('claudeCode over fakeProcessRunner', {
  makeAgent: (scenario) =>
    claudeCode({
      runner: fakeProcessRunner((_cmd, args) => {
        if (args[0] === '--version') return { stdout: ['2.1.197 (Claude Code)\n'] };
        if (scenario === 'complete') return { stdout: [fixture('partial')] };
        return {
          stdout: [initLine()],
          hang: true,
          onSignal: { SIGINT: { stdout: [{ delayMs: 5 }, interruptedLines()], exitCode: 0 } },
        };
      }),
    }),
});

describeCodeAgentConformance('claudeCode over fakeProcessRunner, a CLI deaf to SIGINT', {
  makeAgent: (scenario) =>
    claudeCode({
      sigintGraceMs: 30,
      sigtermGraceMs: 30,
      runner: fakeProcessRunner((_cmd, args) => {
        if (args[0] === '--version') return { stdout: ['2.1.197 (Claude Code)\n'] };
        if (scenario === 'complete') return { stdout: [fixture('text')] };
        return { stdout: [initLine()], hang: true, onSignal: { SIGINT: 'ignore' } };
      }),
    }),
});
