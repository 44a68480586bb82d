import { ProcessSpawnError, type AgentEvent } from '@forge/core';
import { collectRun, fakeProcessRunner, firstEvent, runProblems, type FakeProcessScript } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCode } from './agent.js';
import { fixture } from './test-support/recorded-stdout.js';
import { assistantText, initLine, interruptedLines, resultLine, SESSION } from './test-support/stream-lines.js';

const types = (events: AgentEvent[]) => events.map((e) => e.type);
const PROTOCOL = [
  '-p',
  '--input-format',
  'stream-json',
  '--output-format',
  'stream-json',
  '--verbose',
  '--permission-prompt-tool=stdio',
  '--replay-user-messages',
];
const stdinLines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A runner whose `--version` answers like the real CLI and whose runs play `script`. */
function runnerFor(script: FakeProcessScript | ((args: readonly string[]) => FakeProcessScript)) {
  return fakeProcessRunner((_cmd, args) =>
    args[0] === '--version'
      ? { stdout: ['2.1.197 (Claude Code)\n'] }
      : typeof script === 'function'
        ? script(args)
        : script,
  );
}

describe('claudeCode over a fake process runner', () => {
  it('runs the CLI in stream-json mode with the prompt on stdin and maps a recorded run', async () => {
    const runner = runnerFor({ stdout: [fixture('tool')] });
    const agent = claudeCode({ runner, bin: '/opt/claude' });
    const run = agent.execute({ prompt: 'run it' });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(types(events)).toEqual([
      'session.started',
      'message',
      'usage',
      'tool.call',
      'tool.result',
      'message',
      'usage',
      'run.completed',
    ]);
    expect(result).toMatchObject({
      status: 'completed',
      text: 'The command printed hi. Done.',
      sessionId: 'c2a5f77a-b6ac-4d5b-af54-44da97fd4310',
      turns: 2,
      costUsd: 0.00082,
    });
    const call = runner.calls[0]!;
    expect(call.command).toBe('/opt/claude');
    expect(call.args).toEqual([...PROTOCOL, '--include-partial-messages']);
    // The initialize handshake, then the prompt as a user message; stdin stays open for control responses.
    expect(stdinLines(call.stdin)).toEqual([
      { type: 'control_request', request_id: 'forge-1', request: { subtype: 'initialize', hooks: null } },
      {
        type: 'user',
        message: { role: 'user', content: 'run it' },
        parent_tool_use_id: null,
        session_id: '',
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);
    const last = events.at(-1)!;
    expect(last.raw).toMatchObject({ type: 'result', subtype: 'success' });
  });

  it('builds every flag from the request and the defaults, values attached so none reads as a flag', async () => {
    const runner = runnerFor({ stdout: [initLine(), resultLine()] });
    const agent = claudeCode({
      runner,
      model: 'default-model',
      permissionMode: 'plan',
      extraArgs: ['--bare'],
      env: { A: '1', B: '1' },
      cwd: '/default',
    });
    await collectRun(
      agent.execute({
        prompt: 'x',
        sessionId: 'ses-1',
        model: 'sonnet',
        permissionMode: 'acceptEdits',
        allowedTools: ['Bash(git log *)', 'Read'],
        disallowedTools: ['WebFetch'],
        maxTurns: 3,
        systemPrompt: '--be brief',
        cwd: '/repo',
        env: { B: '2' },
      }),
    );
    const call = runner.calls[0]!;
    expect(call.args).toEqual([
      ...PROTOCOL,
      '--resume=ses-1',
      '--include-partial-messages',
      '--model=sonnet',
      '--permission-mode=acceptEdits',
      '--max-turns=3',
      '--append-system-prompt=--be brief',
      '--bare',
      '--allowedTools=Bash(git log *)',
      '--allowedTools=Read',
      '--disallowedTools=WebFetch',
    ]);
    expect(call.options).toMatchObject({ cwd: '/repo', env: { A: '1', B: '2' } });

    await collectRun(agent.execute({ prompt: 'y' }));
    expect(runner.calls[1]!.args).toContain('--model=default-model');
    expect(runner.calls[1]!.args).toContain('--permission-mode=plan');
    expect(runner.calls[1]!.options.cwd).toBe('/default');
  });

  it('passes any prompt intact on stdin: a leading dash, quotes, newlines, 1 MB', async () => {
    const runner = runnerFor({ stdout: [initLine(), resultLine()] });
    const agent = claudeCode({ runner });
    const prompt = `-rf "quoted" 'single' \\back\nline two\r\n${'é✓'.repeat((1024 * 1024) / 4)}`;
    await collectRun(agent.execute({ prompt }));
    const sent = stdinLines(runner.calls[0]!.stdin).find((m) => m.type === 'user') as { message: { content: string } };
    expect(sent.message.content === prompt).toBe(true);
    expect(runner.calls[0]!.args.join(' ')).not.toContain('quoted');
  });

  it('fails a run that exits without a result, with the exit code and the tail of stderr', async () => {
    const runner = runnerFor({
      stdout: [initLine()],
      stderr: ['first\n', 'x'.repeat(5000), '\nError: boom\n'],
      exitCode: 3,
    });
    const { events, result } = await collectRun(claudeCode({ runner, stderrTailBytes: 100 }).execute({ prompt: 'x' }));
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PROCESS_EXITED');
    expect(result.error?.message).toMatch(/^Claude Code exited with code 3 without a result: x+\nError: boom$/);
    expect(result.error!.message.length).toBeLessThan(200);
    expect(result.sessionId).toBe(SESSION);
    expect(
      events
        .filter((e) => e.type === 'log' && e.stream === 'stderr')
        .map((e) => e.type === 'log' && e.text.slice(0, 6)),
    ).toEqual(['first', 'xxxxxx', 'Error:']);
  });

  it('reports a process killed by a signal', async () => {
    const runner = runnerFor({ stdout: [initLine()], exitSignal: 'SIGKILL' });
    const { result } = await collectRun(claudeCode({ runner }).execute({ prompt: 'x' }));
    expect(result.error).toEqual({
      code: 'PROCESS_EXITED',
      message: 'Claude Code was killed by SIGKILL without a result',
    });
  });

  it('fails with error_max_turns from the recorded run, exit code 1 notwithstanding', async () => {
    const runner = runnerFor({ stdout: [fixture('maxturns')], exitCode: 1 });
    const { result } = await collectRun(claudeCode({ runner }).execute({ prompt: 'x', maxTurns: 1 }));
    expect(result).toMatchObject({
      status: 'failed',
      error: { code: 'ERROR_MAX_TURNS' },
      sessionId: '7bb44d77-7b63-4393-9a3b-2f79022604ac',
    });
  });

  it('fails with a typed error before any event when the binary cannot start', async () => {
    const runner = fakeProcessRunner({ spawnError: 'not found' });
    const agent = claudeCode({ runner });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(types(events)).toEqual(['run.completed']);
    expect(result.error?.code).toBe(new ProcessSpawnError('claude', 'x').code);
    const caps = await agent.capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toContain('not found');
  });

  it('sends attachments as content blocks of the user message; refuses one the API cannot take, starting nothing', async () => {
    const runner = runnerFor({ stdout: [initLine(), resultLine()] });
    const agent = claudeCode({ runner });
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    await collectRun(agent.execute({ prompt: 'x', attachments: [{ kind: 'image', data: png }] }));
    const sent = stdinLines(runner.calls[0]!.stdin).find((m) => m.type === 'user') as { message: unknown };
    expect(sent.message).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'x' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      ],
    });
    const { result } = await collectRun(
      agent.execute({ prompt: 'x', attachments: [{ kind: 'file', data: 'AAAA', mimeType: 'application/zip' }] }),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED' } });
    expect(runner.calls.filter((c) => c.args[0] !== '--version')).toHaveLength(1);
  });

  it('forks in a process of its own (--resume … --fork-session), never in the warm process of the original', async () => {
    const { fakeClaudeRunner } = await import('./testing/index.js');
    const runner = fakeClaudeRunner({});
    const agent = claudeCode({ runner });
    const first = await agent.execute({ prompt: 'x' }).result;
    await agent.execute({ prompt: 'y', sessionId: first.sessionId!, fork: true }).result;
    const cli = runner.calls.filter((c) => c.args[0] !== '--version');
    expect(cli).toHaveLength(2);
    expect(cli[1]!.args).toEqual(expect.arrayContaining([`--resume=${first.sessionId}`, '--fork-session']));
    await agent.close?.();
  });

  it('refuses a bad line cap when built', () => {
    expect(() => claudeCode({ maxLineBytes: -1 })).toThrow(RangeError);
  });

  it('cancel: SIGINT, the CLI reports error_during_execution, the run ends cancelled with the session id', async () => {
    const runner = runnerFor({
      stdout: [initLine(), assistantText('Working on it')],
      hang: true,
      onSignal: { SIGINT: { stdout: [interruptedLines()], exitCode: 0 } },
    });
    const run = claudeCode({ runner }).execute({ prompt: 'x' });
    const reading = firstEvent(run, (e) => e.type === 'message');
    await reading.event;
    const result = await run.cancel('stop');
    const events = await reading.all;
    expect(runner.calls[0]!.signals).toEqual(['SIGINT']);
    expect(result).toMatchObject({
      status: 'cancelled',
      sessionId: SESSION,
      text: 'Working on it',
      error: { code: 'CANCELLED' },
    });
    expect(types(events).slice(-2)).toEqual(['log', 'run.completed']);
    expect(events.at(-1)!.raw).toMatchObject({ subtype: 'error_during_execution' });
  });

  it('cancel: escalates to SIGTERM and SIGKILL when the CLI does not stop', async () => {
    const runner = runnerFor({ stdout: [initLine()], hang: true, onSignal: { SIGINT: 'ignore', SIGTERM: 'ignore' } });
    const run = claudeCode({ runner, sigintGraceMs: 20, sigtermGraceMs: 20 }).execute({ prompt: 'x' });
    await firstEvent(run).event;
    const result = await run.cancel();
    expect(result).toMatchObject({ status: 'cancelled', sessionId: SESSION });
    expect(runner.calls[0]!.signals).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    expect(runner.calls[0]!.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('timeout ends the run as timed_out, stopping the CLI the same way', async () => {
    const runner = runnerFor({
      stdout: [initLine()],
      hang: true,
      onSignal: { SIGINT: { stdout: [interruptedLines()], exitCode: 0 } },
    });
    const { events, result } = await collectRun(claudeCode({ runner }).execute({ prompt: 'x', timeoutMs: 50 }));
    expect(result).toMatchObject({ status: 'timed_out', sessionId: SESSION, error: { code: 'TIMED_OUT' } });
    expect(runProblems(events)).toEqual([]);
    expect(runner.calls[0]!.signals).toEqual(['SIGINT']);
  });

  it('without warm sessions, ends the CLI with its run: stdin closed, then SIGTERM and SIGKILL if it lingers', async () => {
    const runner = runnerFor({ stdout: [initLine(), resultLine()], hang: true, onSignal: { SIGTERM: 'ignore' } });
    const { result } = await collectRun(
      claudeCode({ runner, exitGraceMs: 10, sigtermGraceMs: 10, warmSessions: false }).execute({ prompt: 'x' }),
    );
    expect(result.status).toBe('completed');
    expect(runner.calls[0]!.stdinClosed).toBe(true);
    expect(runner.calls[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(runner.calls[0]!.exit).toBeDefined();
  });

  it('surfaces api_retry lines as retryable errors, a warning line as a log, and goes on', async () => {
    const retry = JSON.stringify({
      type: 'system',
      subtype: 'api_retry',
      attempt: 1,
      max_retries: 10,
      retry_delay_ms: 500,
      error_status: 529,
      error: 'overloaded',
    });
    const runner = runnerFor({
      stdout: [initLine(), 'Warning: odd\r\n', `${retry}\n`, assistantText('ok'), resultLine({ result: 'ok' })],
    });
    const { events, result } = await collectRun(claudeCode({ runner }).execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    expect(events.find((e) => e.type === 'log' && e.text === 'Warning: odd')).toBeDefined();
    expect(events.find((e) => e.type === 'error')).toMatchObject({
      code: 'API_RETRY',
      retryable: true,
      details: { errorStatus: 529 },
    });
  });

  it('reports an oversize line as an error event and keeps going', async () => {
    const runner = runnerFor({
      stdout: [initLine(), `{"type":"assistant","pad":"${'x'.repeat(2000)}"}\n`, assistantText('after'), resultLine()],
    });
    const { events, result } = await collectRun(claudeCode({ runner, maxLineBytes: 1000 }).execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'LINE_TOO_LONG' });
    expect(events.find((e) => e.type === 'message')).toMatchObject({ text: 'after' });
  });

  it('reports capabilities with the CLI version, asking the CLI once', async () => {
    const runner = runnerFor({ stdout: [] });
    const agent = claudeCode({ runner, bin: 'claude-x' });
    const caps = await agent.capabilities();
    await agent.capabilities();
    expect(caps).toMatchObject({
      resume: true,
      cancel: true,
      textDeltas: true,
      reasoning: true,
      systemPrompt: true,
      toolFilter: true,
      maxTurns: true,
      permissionReplies: true,
      questions: true,
      attachments: true,
      images: true,
      mcpServers: true,
      structuredOutput: 'native',
      effort: true,
      version: '2.1.197',
    });
    expect(runner.calls.filter((c) => c.args[0] === '--version')).toHaveLength(1);
    expect(runner.calls[0]).toMatchObject({ command: 'claude-x', args: ['--version'] });
  });

  it('tolerates a --version that hangs or prints nonsense', async () => {
    const hanging = fakeProcessRunner({ hang: true });
    const caps = await claudeCode({ runner: hanging, versionTimeoutMs: 20 }).capabilities();
    expect(caps.version).toBeUndefined();
    expect(caps.extra?.versionError).toMatch(/no answer/);
    expect(hanging.calls[0]!.exit).toBeDefined();
    const odd = await claudeCode({ runner: fakeProcessRunner({ stdout: ['hello\n'] }) }).capabilities();
    expect(odd.extra?.versionError).toMatch(/printed no version/);
  });

  it('without partial messages reports no text deltas and leaves the flag out', async () => {
    const runner = runnerFor({ stdout: [initLine(), resultLine()] });
    const agent = claudeCode({ runner, partialMessages: false });
    await collectRun(agent.execute({ prompt: 'x' }));
    expect(runner.calls[0]!.args).not.toContain('--include-partial-messages');
    expect((await agent.capabilities()).textDeltas).toBe(false);
  });
});
