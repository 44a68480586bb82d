import { claudeCode } from '@forge/claude-code';
import { FAKE_SESSION, FakeClaudeCli, type FakeClaudeOptions } from '@forge/claude-code/testing';
import { describeCodeAgentConformance, type ConformanceScenario } from '@forge/core/testing/conformance';
import { collectRun, runProblems } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { killArgv } from './exec-runner.js';
import { createPodManager, type PodManager } from './pod-manager.js';
import { startFakeExecServer, type ExecSession, type FakeExecServer } from './testing/fake-exec-server.js';

/*
 * "The same adapter as locally": @forge/claude-code, unchanged, runs its CLI through pods.execRunner(id).
 * The pod is a local WebSocket server speaking the Kubernetes exec protocol (msw cannot intercept the `ws`
 * package client-node uses); it plays the CLI: `--version`, then stream-json for the prompt it reads on stdin.
 */
/** The command line without the env/sh wrappers the runner adds. */
function cliArgs(session: ExecSession): string[] {
  const at = session.command.findIndex((part) => part === 'claude' || part.endsWith('/claude'));
  return session.command.slice(at + 1);
}

/** What the scripted CLI plays per conformance scenario (it asks and waits over the control protocol). */
const scripts: Record<ConformanceScenario, FakeClaudeOptions> = {
  complete: {},
  hang: { turn: () => [{ text: 'Working' }, { hang: true }] },
  permission: {
    turn: () => [{ tool: 'Write', input: { file_path: '/workspace/a', content: 'a' } }, { text: 'Done.' }],
  },
  question: {
    turn: () => [{ ask: [{ question: 'Which?', options: [{ label: 'A' }, { label: 'B' }] }] }, { text: 'Ok.' }],
  },
};

/** Signal handlers of the "processes" started with a PID file (signals: 'exec'), by PID file. */
const processes = new Map<string, (signal: string) => void>();
const KILL_SCRIPT = killArgv('SIGINT', 'f')[2];

let server: FakeExecServer;
let pods: PodManager;
const id = { userId: 'alice', agentId: 'main' };
let script: FakeClaudeOptions = {};

beforeAll(async () => {
  server = await startFakeExecServer({
    onExec: async (s) => {
      if (s.command[2] === KILL_SCRIPT) {
        const deliver = processes.get(s.command[4]!);
        deliver?.(s.command[3]!);
        s.exit(deliver ? 0 : 1);
        return;
      }
      if (cliArgs(s)[0] === '--version') {
        s.stdout('2.1.197 (Claude Code)\n');
        s.exit(0);
        return;
      }
      // The CLI in stream-json mode: user and control messages on stdin for as long as it stays open.
      let ended = false;
      const exit = (code: number) => {
        if (!ended) s.exit(code);
        ended = true;
      };
      const cli = new FakeClaudeCli((text) => !ended && s.stdout(text), script, cliArgs(s));
      if (s.command[3]?.startsWith('/tmp/forge-exec-')) {
        // Like the real CLI: SIGINT → the turn is interrupted (error result), then exit 0.
        processes.set(s.command[3], (signal) => {
          if (signal === 'INT') {
            cli.interrupt();
            setTimeout(() => exit(0), 5);
          } else exit(128 + 15);
        });
      }
      void cli.play(s.stdin).then(exit);
    },
  });
  pods = createPodManager({ kubeConfig: server.kubeConfig(), template: { image: 'forge-agent-pod' } });
});
afterAll(() => server.close());

describe('claudeCode({ runner: pods.execRunner(id) })', () => {
  it('runs the CLI in the pod and completes the run', async () => {
    script = {};
    const agent = claudeCode({ runner: pods.execRunner(id), bin: 'claude' });
    const run = agent.execute({ prompt: 'hello pod' });
    const { events, result: outcome } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(outcome).toMatchObject({ status: 'completed', text: 'You said: hello pod', sessionId: FAKE_SESSION });
    const session = server.sessions.at(-1)!;
    expect(session.path).toBe(`/api/v1/namespaces/agents/pods/${pods.podName(id)}/exec`);
    expect(cliArgs(session)).toContain('stream-json');
    await agent.close?.();
  });
});

describeCodeAgentConformance('claudeCode over the Kubernetes exec runner', {
  makeAgent: (scenario) => {
    script = scripts[scenario];
    return claudeCode({ runner: pods.execRunner(id), bin: 'claude', sigintGraceMs: 50, sigtermGraceMs: 50 });
  },
});

describeCodeAgentConformance("claudeCode over the exec runner with real signals (signals: 'exec')", {
  makeAgent: (scenario) => {
    script = scripts[scenario];
    return claudeCode({
      runner: pods.execRunner(id, { signals: 'exec' }),
      bin: 'claude',
      sigintGraceMs: 2000,
      sigtermGraceMs: 2000,
    });
  },
});

describe("cancel with signals: 'exec'", () => {
  it('a CLI that does not answer the interrupt request gets a real SIGINT; the run ends cancelled with its session id', async () => {
    script = { ...scripts.hang, deafToInterrupt: true };
    processes.clear();
    const before = server.sessions.length;
    const agent = claudeCode({ runner: pods.execRunner(id, { signals: 'exec' }), bin: 'claude', sigintGraceMs: 50 });
    const run = agent.execute({ prompt: 'long task' });
    const collected = collectRun(run);
    // The CLI run itself (not a --version probe) has started in the "pod".
    await vi.waitFor(() =>
      expect(
        server.sessions.slice(before).some((s) => cliArgs(s)[0] !== '--version' && processes.has(s.command[3]!)),
      ).toBe(true),
    );
    await run.cancel();
    const { events, result: outcome } = await collected;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(outcome).toMatchObject({ status: 'cancelled', sessionId: FAKE_SESSION });
    expect(server.sessions.some((s) => s.command[2] === KILL_SCRIPT && s.command[3] === 'INT')).toBe(true);
  });
});
