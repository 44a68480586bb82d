import type { AgentEvent } from '@forge/core';
import { collectRun, fakeProcessRunner, runProblems, type FakeProcessScript } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { type CodexOptions, codex as codexAgent } from './agent.js';

/** These tests are about `transport: 'exec'` (the app server has its own). */
const codex = (options: CodexOptions = {}) => codexAgent({ transport: 'exec', ...options });
import {
  agentMessage,
  fixture,
  stderrFixture,
  THREAD,
  threadStarted,
  turnCompleted,
  turnStarted,
} from './test-support/fixtures.js';

const types = (events: AgentEvent[]) => events.map((e) => e.type);

/** A runner whose `--version` answers like the real CLI and whose runs play `script`. */
function runnerFor(script: FakeProcessScript | ((args: readonly string[]) => FakeProcessScript)) {
  return fakeProcessRunner((_cmd, args) =>
    args[0] === '--version'
      ? { stdout: ['codex-cli 0.171.0\n'] }
      : typeof script === 'function'
        ? script(args)
        : script,
  );
}

const provider = { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-test' };

describe('codex over a fake process runner', () => {
  it('runs `codex exec --json` with the prompt on stdin and maps a recorded run', async () => {
    const runner = runnerFor({
      stdout: [fixture('tool')],
      stderr: ['Reading additional input from stdin...\n'],
    });
    const agent = codex({ runner, bin: '/opt/codex' });
    const run = agent.execute({ prompt: '--not-a-flag run it' });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(types(events).filter((t) => t !== 'log')).toEqual([
      'session.started',
      'error',
      'message',
      'tool.call',
      'tool.result',
      'message',
      'usage',
      'run.completed',
    ]);
    expect(events.some((e) => e.type === 'log' && e.stream === 'stderr')).toBe(true);
    expect(result).toMatchObject({
      status: 'completed',
      text: 'The command printed hi. Done.',
      sessionId: '01a233fe-82fd-7390-9683-53399fac15cf',
      turns: 1,
      usage: { inputTokens: 20319, outputTokens: 24 },
    });
    const call = runner.calls[0]!;
    expect(call.command).toBe('/opt/codex');
    expect(call.args).toEqual(['exec', '--json', '--skip-git-repo-check', '--', '-']);
    expect(call.stdin).toBe('--not-a-flag run it');
    expect(call.stdinClosed).toBe(true);
    expect(events.at(-1)!.raw).toMatchObject({ type: 'turn.completed' });
  });

  it('builds the provider, sandbox, model, system prompt and resume from options and request', async () => {
    const runner = runnerFor({ stdout: [threadStarted(), turnStarted(), agentMessage('ok'), turnCompleted()] });
    const agent = codex({
      runner,
      model: 'default-model',
      provider: { ...provider, id: 'my prov', requestMaxRetries: 0 },
      sandbox: 'workspace-write',
      config: { 'features.x': true, list: ['a', 'b"c'] },
      env: { A: '1' },
      cwd: '/default',
    });
    const { result } = await collectRun(
      agent.execute({
        prompt: 'x',
        sessionId: '-rf',
        model: 'gpt-x',
        systemPrompt: 'be "brief"\nreally',
        env: { B: '2' },
        cwd: '/work',
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.usage).toEqual({
      inputTokens: 60,
      outputTokens: 7,
      cacheReadTokens: 40,
      cacheWriteTokens: 0,
      reasoningTokens: 2,
    });
    const call = runner.calls[0]!;
    expect(call.args).toEqual([
      'exec',
      'resume',
      '--json',
      '--skip-git-repo-check',
      '--model=gpt-x',
      '-c',
      'model_provider="my prov"',
      '-c',
      'model_providers."my prov"={name="my prov", base_url="http://127.0.0.1:9/v1", env_key="FORGE_CODEX_API_KEY", wire_api="responses", request_max_retries=0}',
      '-c',
      'sandbox_mode="workspace-write"',
      '-c',
      'developer_instructions="be \\"brief\\"\\nreally"',
      '-c',
      'features.x=true',
      '-c',
      'list=["a", "b\\"c"]',
      '--',
      '-rf',
      '-',
    ]);
    expect(call.options).toMatchObject({ cwd: '/work', env: { A: '1', B: '2', FORGE_CODEX_API_KEY: 'sk-test' } });
    // The key is given: nothing more of the host's than the CLI's own variables.
    expect(call.options.passEnv).toEqual(['OPENAI_API_KEY', 'CODEX_*']);
    // The key never appears on the command line.
    expect(call.args.join(' ')).not.toContain('sk-test');
  });

  it("passes the host's variable named by provider.envKey when the key is not given, and nothing else of the host's", async () => {
    const runner = runnerFor({ stdout: [threadStarted(), turnCompleted()] });
    const agent = codex({ runner, provider: { baseUrl: 'http://127.0.0.1:9/v1', envKey: 'LLM_KEY' } });
    await collectRun(agent.execute({ prompt: 'x' }));
    await agent.capabilities();
    expect(runner.calls.map((c) => c.options.passEnv)).toEqual([
      ['OPENAI_API_KEY', 'CODEX_*', 'LLM_KEY'],
      ['OPENAI_API_KEY', 'CODEX_*', 'LLM_KEY'],
    ]);
    expect(runner.calls[0]!.options.env).not.toHaveProperty('LLM_KEY');
  });

  it.each([
    ['plan', ['-c', 'sandbox_mode="read-only"']],
    ['acceptEdits', ['-c', 'sandbox_mode="workspace-write"']],
    ['bypassPermissions', ['--dangerously-bypass-approvals-and-sandbox']],
    ['default', []],
  ] as const)('permissionMode %s maps onto the sandbox', async (permissionMode, expected) => {
    const runner = runnerFor({ stdout: [threadStarted(), turnCompleted()] });
    await collectRun(codex({ runner }).execute({ prompt: 'x', permissionMode }));
    expect(runner.calls[0]!.args.slice(3, -2)).toEqual(expected);
  });

  it.each([
    [{ allowedTools: ['Bash'] }, 'allowedTools'],
    [{ disallowedTools: ['Bash'] }, 'disallowedTools'],
    [{ maxTurns: 3 }, 'maxTurns'],
    [{ attachments: [{ kind: 'image' as const, path: '/a.png' }] }, 'attachments (image)'],
  ])('refuses %o with UNSUPPORTED_FIELD before starting anything', async (extra, feature) => {
    const runner = runnerFor({ stdout: [threadStarted(), turnCompleted()] });
    expect(() => codex({ runner }).execute({ prompt: 'x', ...extra })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD', fields: [feature] }),
    );
    expect(runner.calls).toHaveLength(0);
  });

  it('refuses bad options at construction', () => {
    expect(() => codex({ sandbox: 'nope' as never })).toThrow(RangeError);
    expect(() => codex({ provider: { baseUrl: 'ftp://x' } })).toThrow(RangeError);
    expect(() => codex({ maxLineBytes: 0 })).toThrow(RangeError);
  });

  it.each([
    ['e401', 'API_AUTH_ERROR'],
    ['e500', 'API_SERVER_ERROR'],
    ['e429', 'API_RATE_LIMITED'],
    ['e400', 'API_REQUEST_ERROR'],
  ] as const)('%s: failed with %s, the session kept', async (name, code) => {
    const runner = runnerFor({ stdout: [fixture(name)], exitCode: 1 });
    const { result } = await collectRun(codex({ runner }).execute({ prompt: 'x' }));
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(code);
    expect(result.sessionId).toMatch(/^01a233fe-/);
  });

  it('an unknown session: SESSION_NOT_FOUND from what the CLI said on stderr', async () => {
    const runner = runnerFor({ stderr: [stderrFixture('resume-unknown')], exitCode: 1 });
    const { result } = await collectRun(codex({ runner }).execute({ prompt: 'x', sessionId: 'nope' }));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_FOUND' } });
    expect(result.error?.message).toContain('no rollout found');
  });

  it('the npm wrapper without its native binary: CODEX_NOT_INSTALLED, and unavailable', async () => {
    const runner = fakeProcessRunner({ stderr: [stderrFixture('missing-native')], exitCode: 1 });
    const agent = codex({ runner });
    const { result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result.error?.code).toBe('CODEX_NOT_INSTALLED');
    expect(result.error?.message).toContain('@openai/codex-linux-x64');
    const caps = await agent.capabilities();
    expect(caps).toMatchObject({ available: false });
    expect(caps.unavailableReason).toContain('Missing optional dependency');
  });

  it('a rejected configuration: CODEX_CONFIG_ERROR', async () => {
    const runner = runnerFor({ stderr: [stderrFixture('chat-wire')], exitCode: 1 });
    const { result } = await collectRun(codex({ runner }).execute({ prompt: 'x' }));
    expect(result.error?.code).toBe('CODEX_CONFIG_ERROR');
  });

  it('a binary that cannot be started: PROCESS_SPAWN_FAILED before any event', async () => {
    const runner = fakeProcessRunner({ spawnError: 'not found (is it installed and on PATH?)' });
    const agent = codex({ runner, bin: '/nowhere/codex' });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(types(events)).toEqual(['run.completed']);
    expect(result.error?.code).toBe('PROCESS_SPAWN_FAILED');
    expect(result.error?.message).toContain('/nowhere/codex');
    const caps = await agent.capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toContain('not found');
    expect(caps.available).toBe(false);
    expect(caps.unavailableReason).toContain('not found');
  });

  it('a CLI that exits mid-turn without a word: PROCESS_EXITED with the stderr tail and what it had said', async () => {
    const runner = runnerFor({
      stdout: [threadStarted(), agentMessage('partial')],
      stderr: ['thread panicked\n'],
      exitSignal: 'SIGSEGV',
    });
    const { result } = await collectRun(codex({ runner }).execute({ prompt: 'x' }));
    expect(result).toMatchObject({
      status: 'failed',
      sessionId: THREAD,
      text: 'partial',
      error: { code: 'PROCESS_EXITED' },
    });
    expect(result.error?.message).toContain('SIGSEGV');
    expect(result.error?.message).toContain('thread panicked');
  });

  it('cancel: SIGINT, the CLI exits without a word, the run is cancelled with its session', async () => {
    const runner = runnerFor({
      stdout: [threadStarted(), turnStarted()],
      hang: true,
      onSignal: { SIGINT: { exitCode: 1 } },
    });
    const run = codex({ runner }).execute({ prompt: 'x' });
    for await (const e of run) if (e.type === 'session.started') void run.cancel();
    const result = await run.result;
    expect(result).toMatchObject({ status: 'cancelled', sessionId: THREAD, error: { code: 'CANCELLED' } });
    expect(runner.calls[0]!.signals).toEqual(['SIGINT']);
  });

  it('a timeout ends a CLI that waits for the network for ever, up the signal ladder if it must', async () => {
    const runner = runnerFor({
      stdout: [fixture('bad-port')],
      hang: true,
      onSignal: { SIGINT: 'ignore', SIGTERM: 'ignore' },
    });
    const { events, result } = await collectRun(
      codex({ runner, sigintGraceMs: 20, sigtermGraceMs: 20 }).execute({ prompt: 'x', timeoutMs: 200 }),
    );
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('TIMED_OUT');
    expect(events.some((e) => e.type === 'error' && e.code === 'API_RETRY')).toBe(true);
    expect(runner.calls[0]!.signals).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    expect(runner.calls[0]!.exit).toBeDefined();
  });

  it('a CLI that lingers after its turn is stopped', async () => {
    const runner = runnerFor({ stdout: [fixture('text')], hang: true });
    const { result } = await collectRun(codex({ runner, exitGraceMs: 20 }).execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    expect(runner.calls[0]!.signals[0]).toBe('SIGTERM');
  });

  it('reports honest capabilities with the version the CLI printed', async () => {
    const caps = await codex({ runner: runnerFor({}) }).capabilities();
    expect(caps).toMatchObject({
      version: '0.171.0',
      resume: true,
      cancel: true,
      permissionReplies: false,
      textDeltas: false,
      reasoning: true,
      systemPrompt: true,
      toolFilter: false,
      maxTurns: false,
      attachments: false,
      questions: false,
      available: true,
      extra: { sandbox: 'read-only' },
    });
    expect((await codex({ runner: runnerFor({}), ephemeral: true }).capabilities()).resume).toBe(false);
  });
});
