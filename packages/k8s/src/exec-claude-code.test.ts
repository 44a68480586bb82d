import { claudeCode } from '@forge/claude-code';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
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
const SESSION = '0b6c8f6e-1111-4222-8333-944455556666';
const line = (message: Record<string, unknown>) => `${JSON.stringify(message)}\n`;
const init = line({
  type: 'system',
  subtype: 'init',
  session_id: SESSION,
  cwd: '/workspace',
  model: 'claude-test',
  tools: ['Bash'],
  permissionMode: 'default',
});
const assistant = (text: string) =>
  line({
    type: 'assistant',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [{ type: 'text', text }],
      usage: { input_tokens: 10, output_tokens: 3 },
    },
    session_id: SESSION,
  });
const result = (text: string) =>
  line({
    type: 'result',
    subtype: 'success',
    is_error: false,
    duration_ms: 12,
    num_turns: 1,
    result: text,
    session_id: SESSION,
    total_cost_usd: 0.001,
    usage: { input_tokens: 10, output_tokens: 3 },
  });

/** The command line without the env/sh wrappers the runner adds. */
function cliArgs(session: ExecSession): string[] {
  const at = session.command.findIndex((part) => part === 'claude' || part.endsWith('/claude'));
  return session.command.slice(at + 1);
}

const interrupted =
  line({
    type: 'user',
    message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] },
    session_id: SESSION,
  }) +
  line({
    type: 'result',
    subtype: 'error_during_execution',
    is_error: true,
    duration_ms: 5,
    num_turns: 1,
    session_id: SESSION,
    total_cost_usd: 0,
    usage: { input_tokens: 1, output_tokens: 0 },
  });

/** Signal handlers of the "processes" started with a PID file (signals: 'exec'), by PID file. */
const processes = new Map<string, (signal: string) => void>();
const KILL_SCRIPT = killArgv('SIGINT', 'f')[2];

let server: FakeExecServer;
let pods: PodManager;
const id = { userId: 'alice', agentId: 'main' };
let hang = false;

beforeAll(async () => {
  server = await startFakeExecServer({
    onExec: async (s) => {
      if (s.command[2] === KILL_SCRIPT) {
        const deliver = processes.get(s.command[4]!);
        deliver?.(s.command[3]!);
        s.exit(deliver ? 0 : 1);
        return;
      }
      if (s.command[3]?.startsWith('/tmp/forge-exec-')) {
        // Like the real CLI: SIGINT → the interruption and an error result, exit 0.
        processes.set(s.command[3], (signal) => {
          if (signal === 'INT') {
            s.stdout(interrupted);
            s.exit(0);
          } else s.exit(128 + 15);
        });
      }
      if (cliArgs(s)[0] === '--version') {
        s.stdout('2.1.197 (Claude Code)\n');
        s.exit(0);
        return;
      }
      const prompt = await s.stdinText();
      s.stdout(init);
      if (hang) return; // Runs until the client closes (the adapter's kill).
      s.stdout(assistant(`You said: ${prompt}`));
      s.stdout(result(`You said: ${prompt}`));
      s.exit(0);
    },
  });
  pods = createPodManager({ kubeConfig: server.kubeConfig(), template: { image: 'forge-agent-pod' } });
});
afterAll(() => server.close());

describe('claudeCode({ runner: pods.execRunner(id) })', () => {
  it('runs the CLI in the pod and completes the run', async () => {
    hang = false;
    const agent = claudeCode({ runner: pods.execRunner(id), bin: 'claude' });
    const run = agent.execute({ prompt: 'hello pod' });
    const { events, result: outcome } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(outcome).toMatchObject({ status: 'completed', text: 'You said: hello pod', sessionId: SESSION });
    const session = server.sessions.at(-1)!;
    expect(session.path).toBe(`/api/v1/namespaces/agents/pods/${pods.podName(id)}/exec`);
    expect(cliArgs(session)).toContain('stream-json');
    await agent.close?.();
  });
});

describeCodeAgentConformance('claudeCode over the Kubernetes exec runner', {
  makeAgent: (scenario) => {
    hang = scenario === 'hang';
    return claudeCode({ runner: pods.execRunner(id), bin: 'claude', sigintGraceMs: 50, sigtermGraceMs: 50 });
  },
});

describeCodeAgentConformance("claudeCode over the exec runner with real signals (signals: 'exec')", {
  makeAgent: (scenario) => {
    hang = scenario === 'hang';
    return claudeCode({
      runner: pods.execRunner(id, { signals: 'exec' }),
      bin: 'claude',
      sigintGraceMs: 2000,
      sigtermGraceMs: 2000,
    });
  },
});

describe("cancel with signals: 'exec'", () => {
  it('interrupts the CLI with a real SIGINT, so the run ends cancelled with its session id', async () => {
    hang = true;
    processes.clear();
    const before = server.sessions.length;
    const agent = claudeCode({ runner: pods.execRunner(id, { signals: 'exec' }), bin: 'claude' });
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
    expect(outcome).toMatchObject({ status: 'cancelled', sessionId: SESSION });
    expect(server.sessions.some((s) => s.command[2] === KILL_SCRIPT && s.command[3] === 'INT')).toBe(true);
  });
});
