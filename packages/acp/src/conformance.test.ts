import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { acpAgent } from './agent.js';
import { scriptedAcpRunner } from './test-support/scripted-acp.js';

// The scripted agent is an SDK `agent()` app behind a ProcessRunner: `complete` answers with text,
// `hang` streams a chunk and waits for session/cancel, `permission` asks session/request_permission.
// It declares no questions: `question` is never asked for.
describeCodeAgentConformance('acpAgent over a scripted ACP agent', {
  makeAgent: (scenario) =>
    acpAgent({
      command: 'scripted-acp',
      cwd: '/work',
      closeGraceMs: 50,
      runner: scriptedAcpRunner(scenario === 'complete' ? {} : { scenario }),
    }),
});
