import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  claudeBinPath,
  type FakeAnthropicApi,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
} from '@forge/claude-code/testing';
import { type ConformanceScenario, describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { claudeCodeAcp } from './presets.js';
import { alive, trackingRunner, waitFor } from './test-support/int-rig.js';
import { claudeCodeAcpPath } from './testing/index.js';

/**
 * Core's conformance suite against the real `@zed-industries/claude-code-acp` 0.16.2, driving the real `claude`
 * CLI of `@forge/claude-code`'s devDependency, and `@forge/claude-code`'s fake Messages API on 127.0.0.1, with
 * a scratch HOME. A file of its own (not in claude-code-acp.int.test.ts), so
 * the test pool runs the two side by side: both mostly wait for the agent. The suite's tests run concurrently too,
 * so each scenario has a fake API of its own (one shared fake switched to the last scenario asked for would answer
 * another test's agent).
 */
// claude-code-acp does not exit when its stdin closes: each close waits out this grace, then SIGTERMs it.
const CLOSE_GRACE_MS = 200;

describe('claudeCodeAcp conformance (real claude-code-acp)', () => {
  const apis = new Map<ConformanceScenario, FakeAnthropicApi>();
  let scratch: string;
  // A new file per run: Claude Code refuses (without asking) to Write over a file it has not read.
  let written = 0;
  const runner = trackingRunner();
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-claude-acp-conf-'));
    await mkdir(join(scratch, 'work'));
    await mkdir(join(scratch, 'home'));
    for (const mode of ['complete', 'hang', 'permission', 'question'] as const) {
      const api = await startFakeAnthropicApi({
        respond: (r) =>
          mode === 'hang'
            ? { hang: true }
            : mode === 'permission' && !r.hasToolResult
              ? {
                  toolUse: {
                    name: 'Write',
                    input: { file_path: join(scratch, 'work', `conformance-${++written}.txt`), content: 'x\n' },
                  },
                }
              : { text: 'Conformance answer.' },
      });
      apis.set(mode, api);
    }
  });
  afterAll(async () => {
    const allGone = await waitFor(() => runner.spawned.every((p) => !alive(p.pid)), 5_000);
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    for (const api of apis.values()) await api.close();
    await rm(scratch, { recursive: true, force: true });
    expect(allGone).toBe(true);
  });
  describeCodeAgentConformance('claudeCodeAcp', {
    testTimeoutMs: 60_000,
    concurrent: true,
    // One agent process per scenario for the file, each run a session of its own: a process start was most of
    // the file's CPU.
    shareAgents: true,
    makeAgent: (scenario) => {
      const api = apis.get(scenario)!;
      return claudeCodeAcp({
        command: claudeCodeAcpPath(),
        runner,
        closeGraceMs: CLOSE_GRACE_MS,
        // claude-code-acp starts a Claude Code CLI per session. The real native `claude` binary (the one
        // @forge/claude-code's tests drive) starts on about half the CPU of the agent SDK's bundled cli.js
        // under Node (0.9 s against 1.7 s): the suite checks the adapter's contract, which is the same over
        // either; the bundled CLI, claude-code-acp's default, is what claude-code-acp.int and -inputs drive.
        claudeExecutable: claudeBinPath(),
        cwd: join(scratch, 'work'),
        env: {
          ...fakeAnthropicEnv(api.url),
          HOME: join(scratch, 'home'),
          CLAUDE_CODE_MAX_RETRIES: '1',
          IS_SANDBOX: '1',
        },
      });
    },
  });
});
