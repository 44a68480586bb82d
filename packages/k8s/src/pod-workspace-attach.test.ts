import { afterEach, describe, expect, it } from 'vitest';
import { podWorkspaceAttach } from './pod-workspace-attach.js';
import { startFakeExecServer, type FakeExecServer, type FakeExecServerOptions } from './testing/fake-exec-server.js';

let server: FakeExecServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function attachFor(onExec: FakeExecServerOptions['onExec'], workspace?: string) {
  server = await startFakeExecServer({ onExec });
  return podWorkspaceAttach({
    kubeConfig: server.kubeConfig(),
    namespace: 'agents',
    podName: 'forge-agent-1',
    container: 'agent',
    ...(workspace ? { workspace } : {}),
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString();
  return text;
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('podWorkspaceAttach', () => {
  it('a tty exec into the pod: the login shell in the workspace, its size and resizes on channel 4, the exit code', async () => {
    const attach = await attachFor(async (s) => {
      for await (const chunk of s.stdin) {
        s.stdout(`echo:${chunk.toString()}`);
        if (chunk.toString().includes('exit')) break;
      }
      await until(() => s.resizes.length >= 2);
      s.exit(5);
    }, '/workspace');
    const p = await attach.open({ tty: true, cols: 100, rows: 30 });
    expect(p.tty).toBe(true);
    const w = p.stdin.getWriter();
    p.resize({ cols: 120, rows: 40 });
    await w.write(new TextEncoder().encode('ls; exit\n'));
    const [out, exit] = await Promise.all([readAll(p.stdout), p.exited]);
    expect(out).toBe('echo:ls; exit\n');
    expect(exit).toEqual({ code: 5, signal: null });
    const session = server!.sessions[0]!;
    expect(session.query.get('tty')).toBe('true');
    expect(session.query.get('stderr')).toBe('false');
    expect(session.container).toBe('agent');
    expect(session.command).toEqual([
      'sh',
      '-c',
      'cd -- "$1" || exit 126; shift; exec "$@"',
      'sh',
      '/workspace',
      'sh',
      '-c',
      '[ -n "$SHELL" ] || SHELL=/bin/sh; exec "$SHELL" -l',
    ]);
    expect(session.resizes).toEqual([
      { cols: 100, rows: 30 },
      { cols: 120, rows: 40 },
    ]);
  });

  it('without a tty: stdout and stderr apart, stdin closed on channel 255, exit 0', async () => {
    const attach = await attachFor(async (s) => {
      const input = await s.stdinText();
      s.stdout(`got ${input}`);
      s.stderr('warn');
      s.exit(0);
    });
    const p = await attach.open({ command: ['cat'] });
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode('abc'));
    await w.close();
    const [out, err, exit] = await Promise.all([readAll(p.stdout), readAll(p.stderr), p.exited]);
    expect({ out, err, exit }).toEqual({ out: 'got abc', err: 'warn', exit: { code: 0, signal: null } });
    expect(server!.sessions[0]!.stdinClosedBySignal).toBe(true);
    expect(server!.sessions[0]!.command).toEqual(['cat']);
  });

  it('kill closes the exec connection', async () => {
    const attach = await attachFor(async (s) => {
      s.stdout('ready');
      await s.closed;
    });
    const p = await attach.open({ command: ['sleep', '100'] });
    const reader = p.stdout.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('ready');
    p.kill();
    expect(await p.exited).toEqual({ code: null, signal: 'SIGHUP' });
    expect(await server!.sessions[0]!.closed).toEqual({ byClient: true });
  });
});
