import { ProcessSpawnError, type RunningProcess } from '@forge/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execArgv, killArgv, withPidFile } from './exec-runner.js';
import { createPodManager } from './pod-manager.js';
import { startFakeExecServer, type FakeExecServer, type FakeExecServerOptions } from './testing/fake-exec-server.js';

// Exec runs over a real WebSocket on 127.0.0.1 (see testing/fake-exec-server.ts for why not msw).
let server: FakeExecServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const id = { userId: 'alice', agentId: 'main' };

async function runnerFor(options: FakeExecServerOptions) {
  server = await startFakeExecServer(options);
  const pods = createPodManager({
    kubeConfig: server.kubeConfig(),
    template: { image: 'img', containerName: 'agent' },
  });
  return { pods, runner: pods.execRunner(id), server };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

async function outputs(proc: RunningProcess) {
  const [stdout, stderr, exit] = await Promise.all([readAll(proc.stdout), readAll(proc.stderr), proc.exited]);
  return { stdout, stderr, exit };
}

describe('execRunner', () => {
  it('runs the command in the pod: stdin in, stdout and stderr out, exit 0 from the status channel', async () => {
    const { runner, pods, server } = await runnerFor({
      onExec: async (s) => {
        const input = await s.stdinText();
        s.stdout(`got ${input}\n`);
        s.stderr('a warning\n');
        s.stdout('done\n');
        s.exit(0);
      },
    });
    const proc = await runner.spawn('cat', ['-n'], { input: 'the prompt' });
    expect(proc.pid).toBeUndefined();
    expect(await outputs(proc)).toEqual({
      stdout: 'got the prompt\ndone\n',
      stderr: 'a warning\n',
      exit: { code: 0, signal: null },
    });
    const session = server.sessions[0]!;
    expect(session.path).toBe(`/api/v1/namespaces/agents/pods/${pods.podName(id)}/exec`);
    expect(session.command).toEqual(['cat', '-n']);
    expect(session.container).toBe('agent');
    expect(session.query.get('stdin')).toBe('true');
    expect(session.query.get('tty')).toBe('false');
    expect(session.protocol).toBe('v5.channel.k8s.io');
    expect(session.stdinClosedBySignal).toBe(true);
    expect(session.headers.authorization).toBe('Bearer exec-token');
    expect(proc.kill()).toBe(false);
  });

  it('honours a v5 stream close from the server and ignores output after it', async () => {
    const { runner } = await runnerFor({
      onExec: (s) => {
        s.stdout('before');
        s.closeStream(1);
        s.stdout('after');
        s.stderr('err');
        s.exit(0);
      },
    });
    const proc = await runner.spawn('x', [], { input: '' });
    expect(await outputs(proc)).toEqual({ stdout: 'before', stderr: 'err', exit: { code: 0, signal: null } });
  });

  it('reports a non-zero exit code', async () => {
    const { runner } = await runnerFor({ onExec: (s) => s.exit(3) });
    const proc = await runner.spawn('false', [], { input: '' });
    expect((await outputs(proc)).exit).toEqual({ code: 3, signal: null });
  });

  it('reports a command that cannot start as exit 127 with the reason on stderr', async () => {
    const { runner } = await runnerFor({
      onExec: (s) => s.fail('exec: "nope": executable file not found in $PATH: unknown'),
    });
    const proc = await runner.spawn('nope', [], { input: '' });
    const out = await outputs(proc);
    expect(out.exit).toEqual({ code: 127, signal: null });
    expect(out.stderr).toContain('executable file not found');
  });

  it('streams stdin written after spawn, and ends it with the v5 close signal', async () => {
    const { runner, server } = await runnerFor({
      onExec: async (s) => {
        for await (const chunk of s.stdin) s.stdout(chunk.toString('utf8').toUpperCase());
        s.exit(0);
      },
    });
    const proc = await runner.spawn('tr', ['a-z', 'A-Z']);
    await proc.stdin.write('hello ');
    await proc.stdin.write(new TextEncoder().encode('pod'));
    await proc.stdin.end();
    expect(await outputs(proc)).toMatchObject({ stdout: 'HELLO POD', exit: { code: 0 } });
    expect(server.sessions[0]!.stdinClosedBySignal).toBe(true);
    await expect(proc.stdin.write('late')).rejects.toThrow();
  });

  it('passes env and cwd through env / sh -c, since exec has neither', async () => {
    const { runner, server } = await runnerFor({ onExec: (s) => s.exit(0) });
    await (await runner.spawn('claude', ['-p'], { cwd: '/workspace', env: { A: '1', B: 'two words' }, input: '' }))
      .exited;
    expect(server.sessions[0]!.command).toEqual([
      'sh',
      '-c',
      'cd -- "$1" || exit 126; shift; exec "$@"',
      'sh',
      '/workspace',
      'env',
      'A=1',
      'B=two words',
      'claude',
      '-p',
    ]);
    expect(execArgv('x', [], { inheritEnv: false })).toEqual(['env', '-i', 'x']);
    expect(() => execArgv('x', [], { env: { 'BAD NAME': '1' } })).toThrow(ProcessSpawnError);
  });

  it('opens no stdin for an empty input, which works on servers older than v5 too', async () => {
    const { runner, server } = await runnerFor({
      protocols: ['v4.channel.k8s.io'],
      onExec: (s) => (s.stdout('v4 ok'), s.exit(0)),
    });
    const proc = await runner.spawn('echo', [], { input: '' });
    expect(await outputs(proc)).toMatchObject({ stdout: 'v4 ok', exit: { code: 0 } });
    expect(server.sessions[0]!.query.get('stdin')).toBe('false');
  });

  it('refuses input it cannot end on a pre-v5 server, instead of hanging', async () => {
    const { runner } = await runnerFor({ protocols: ['v4.channel.k8s.io'], onExec: () => undefined });
    const error = await runner.spawn('cat', [], { input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessSpawnError);
    expect((error as Error).message).toContain('v5.channel.k8s.io');
  });

  it('kill closes stdin and the connection; the exit names the signal', async () => {
    const { runner, server } = await runnerFor({ onExec: (s) => s.stdout('started\n') });
    const proc = await runner.spawn('sleep', ['1000']);
    const first = await proc.stdout[Symbol.asyncIterator]().next();
    expect(Buffer.from(first.value!).toString()).toBe('started\n');
    expect(proc.kill('SIGINT')).toBe(true);
    expect(await proc.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(await server.sessions[0]!.closed).toEqual({ byClient: true });
    expect(server.sessions[0]!.stdinClosedBySignal).toBe(true);
    expect(proc.kill('SIGKILL')).toBe(false);
  });

  it("with signals: 'exec', kill delivers a real signal through a second exec", async () => {
    const handlers = new Map<string, (signal: string) => void>();
    const pidScript = withPidFile([], 'f')[2];
    const killScript = killArgv('SIGINT', 'f')[2];
    const { pods, server } = await runnerFor({
      onExec: (s) => {
        const [, , script, ...rest] = s.command;
        if (script === pidScript) {
          s.stdout('started\n');
          handlers.set(rest[0]!, (signal) => {
            s.stdout(`got ${signal}\n`);
            s.exit(130);
          });
        } else if (script === killScript) {
          const handler = handlers.get(rest[1]!);
          handler?.(rest[0]!);
          s.exit(handler ? 0 : 1);
        }
      },
    });
    const proc = await pods.execRunner(id, { signals: 'exec' }).spawn('sleep', ['1000'], { cwd: '/w' });
    await vi.waitFor(() => expect(handlers.size).toBe(1));
    expect(proc.kill('SIGINT')).toBe(true);
    // 130 = 128 + SIGINT: the process died of the signal it was sent.
    expect(await outputs(proc)).toEqual({
      stdout: 'started\ngot INT\n',
      stderr: '',
      exit: { code: null, signal: 'SIGINT' },
    });
    const [main, kill] = server.sessions;
    expect(main!.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(main!.command[3]).toMatch(/^\/tmp\/forge-exec-[0-9a-f-]{36}\.pid$/);
    expect(main!.command.slice(4)).toEqual([
      'sh',
      '-c',
      'cd -- "$1" || exit 126; shift; exec "$@"',
      'sh',
      '/w',
      'sleep',
      '1000',
    ]);
    expect(kill!.command).toEqual(['sh', '-c', killScript, 'INT', main!.command[3]]);
    expect(kill!.query.get('stdin')).toBe('false');
  });

  it("with signals: 'exec', falls back to closing the connection when the kill exec fails", async () => {
    const { pods, server } = await runnerFor({
      onExec: (s) => {
        if (s.command.includes('kill -s "$0" "$(cat "$1")"')) s.fail('exec: "sh": executable file not found in $PATH');
        else s.stdout('started\n');
      },
    });
    const proc = await pods.execRunner(id, { signals: 'exec' }).spawn('sleep', ['1000']);
    expect(proc.kill('SIGTERM')).toBe(true);
    expect(await proc.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await server.sessions[0]!.closed).toEqual({ byClient: true });
  });

  it('reports a connection lost without a status as SIGHUP', async () => {
    const { runner, server } = await runnerFor({ onExec: (s) => s.stdout('partial') });
    const proc = await runner.spawn('x', []);
    await new Promise((r) => setImmediate(r));
    await server.close();
    const out = await outputs(proc);
    expect(out.exit).toEqual({ code: null, signal: 'SIGHUP' });
  });

  it('rejects with ProcessSpawnError when the API server refuses the exec', async () => {
    const { runner, pods } = await runnerFor({ refuse: 404, onExec: () => undefined });
    const error = await runner.spawn('x', [], { input: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessSpawnError);
    expect((error as ProcessSpawnError).message).toContain(pods.podName(id));
  });
});
