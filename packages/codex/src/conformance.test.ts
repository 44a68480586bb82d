import { fakeProcessRunner } from '@forge/core/testing';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { type CodexOptions, codex as codexAgent } from './agent.js';

/** `transport: 'exec'` unless a case names another (the app server's cases do). */
const codex = (options: CodexOptions = {}) => codexAgent({ transport: 'exec', ...options });
import { fixture, threadStarted, turnStarted } from './test-support/fixtures.js';
import {
  completed,
  type ScriptedHandler,
  scriptedAppServer,
  threadAndTurn,
} from './test-support/scripted-app-server.js';

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

// transport 'app-server' over a scripted JSON-RPC peer: `complete` answers text, `hang` starts a turn that ends
// only on `turn/interrupt`, `permission` / `question` ask first and finish once answered.
const QUESTION = {
  id: 'q',
  header: 'Q',
  question: 'Which?',
  isOther: false,
  isSecret: false,
  options: [{ label: 'A', description: '' }],
};

describeCodeAgentConformance('codex app-server over a scripted peer', {
  makeAgent: (scenario) => {
    let handler: ScriptedHandler | undefined;
    return codex({
      transport: 'app-server',
      model: 'm',
      versionTimeoutMs: 50,
      sigintGraceMs: 50,
      sigtermGraceMs: 50,
      runner: scriptedAppServer((m, s) => {
        handler ??= threadAndTurn((srv, { threadId, turnId }) => {
          if (scenario === 'complete') {
            srv.notify('item/agentMessage/delta', { threadId, turnId, itemId: 'a', delta: 'Conformant.' });
            srv.send({
              method: 'item/completed',
              params: { threadId, turnId, item: { type: 'agentMessage', id: 'a', text: 'Conformant.' } },
            });
            srv.send(completed(threadId, turnId));
          } else if (scenario === 'permission')
            srv.send({
              id: 900,
              method: 'item/commandExecution/requestApproval',
              params: { threadId, turnId, itemId: 'c', command: 'echo hi' },
            });
          else if (scenario === 'question')
            srv.send({
              id: 900,
              method: 'item/tool/requestUserInput',
              params: {
                threadId,
                turnId,
                itemId: 'q',
                isBlocking: true,
                questions: [QUESTION],
              },
            });
        });
        if (m.method === 'turn/interrupt') {
          s.send({ id: m.id, result: {} });
          s.send(completed(m.params.threadId, m.params.turnId, 'interrupted'));
          return;
        }
        if (m.id === 900 && !m.method) {
          const turn = s.received.filter((r) => r.method === 'turn/start').length;
          s.send(completed('thread-1', `turn-${turn}`));
          return;
        }
        handler(m, s);
      }),
    });
  },
});
