import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  localProcessRunner,
  type AgentEvent,
  type CodeAgent,
  type ProcessRunner,
  type RunningProcess,
} from '@forge/core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { claudeCode, type ClaudeCodeOptions } from '../agent.js';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
  type FakeResponder,
  toolResultText,
} from '../testing/index.js';

/**
 * The real CLI (devDependency `@anthropic-ai/claude-code`) against the fake Messages API on 127.0.0.1, with a
 * scratch HOME, for the integration tests: call it inside a `describe`, which gets its hooks. Each test scripts
 * the fake's answers (`rig.responder`); every agent is closed after each test, and no process it started may
 * be left.
 */
export function claudeCliRig() {
  const rig = {
    api: undefined as unknown as FakeAnthropicApi,
    scratch: '',
    responder: (() => ({ text: 'unset' })) as FakeResponder,
    spawned: [] as RunningProcess[],
    agent: (env: Record<string, string> = {}, options: ClaudeCodeOptions = {}) => agent(env, options),
    turns: () => turns(),
    toolResult: (req: { body: unknown }) => toolResultText(req.body),
    ofType: <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
      events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type),
    alive: (pid: number | undefined) => alive(pid),
    processesWith: (marker: string) => processesWith(marker),
  };
  const spawned = rig.spawned;

  // Records every process, so tests can check that none is left behind.
  const local = localProcessRunner();
  const runner: ProcessRunner = {
    async spawn(command, args, options) {
      const p = await local.spawn(command, args, options);
      spawned.push(p);
      return p;
    },
  };

  const agents: CodeAgent[] = [];
  const agent = (env: Record<string, string> = {}, options: ClaudeCodeOptions = {}) => {
    const a = claudeCode({
      runner,
      bin: claudeBinPath(),
      cwd: rig.scratch,
      env: { ...fakeAnthropicEnv(rig.api.url), HOME: join(rig.scratch, 'home'), ...env },
      sigintGraceMs: 5_000,
      ...options,
    });
    agents.push(a);
    return a;
  };
  /** Closes the test's agents, then checks that no process they started is left. */
  const closeAll = async () => {
    for (const a of agents.splice(0)) await a.close?.();
    for (const p of spawned) expect(alive(p.pid)).toBe(false);
  };

  const turns = () =>
    rig.api.requests.filter(
      (r) => r.method === 'POST' && r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'),
    );

  const alive = (pid: number | undefined) => {
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** Living processes whose command line (arguments joined by spaces) contains `marker`, read from /proc. */
  const processesWith = async (marker: string) => {
    const found: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
      // A zombie (killed, not yet reaped by a PID 1 that does not reap) counts as gone.
      const state = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '')[0];
      if (cmd.includes(marker) && state !== 'Z' && state !== 'X') found.push(pid);
    }
    return found;
  };

  beforeAll(async () => {
    rig.scratch = await mkdtemp(join(tmpdir(), 'forge-claude-int-'));
    rig.api = await startFakeAnthropicApi({ respond: (req) => rig.responder(req) });
  });
  afterAll(async () => {
    for (const p of spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await rig.api?.close();
    await rm(rig.scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    rig.api.requests.length = 0;
  });
  afterEach(closeAll);
  return rig;
}
