import { fakeProcessRunner } from '@forge/core/testing';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { codex } from './agent.js';
import { fixture, threadStarted, turnStarted } from './test-support/fixtures.js';

// `complete` replays a recorded run of the real CLI; `hang` starts a turn that only ends on a
// signal, answering SIGINT as the real CLI does (exit 1, nothing more on stdout).
describeCodeAgentConformance('codex over fakeProcessRunner', {
  makeAgent: (scenario) =>
    codex({
      runner: fakeProcessRunner((_cmd, args) => {
        if (args[0] === '--version') return { stdout: ['codex-cli 0.171.0\n'] };
        if (scenario === 'complete') return { stdout: [fixture('tool')] };
        return { stdout: [threadStarted(), turnStarted()], hang: true, onSignal: { SIGINT: { exitCode: 1 } } };
      }),
    }),
});

describeCodeAgentConformance('codex over fakeProcessRunner, a CLI deaf to SIGINT', {
  makeAgent: (scenario) =>
    codex({
      sigintGraceMs: 30,
      sigtermGraceMs: 30,
      runner: fakeProcessRunner((_cmd, args) => {
        if (args[0] === '--version') return { stdout: ['codex-cli 0.171.0\n'] };
        if (scenario === 'complete') return { stdout: [fixture('text')] };
        return { stdout: [fixture('bad-port')], hang: true, onSignal: { SIGINT: 'ignore' } };
      }),
    }),
});
