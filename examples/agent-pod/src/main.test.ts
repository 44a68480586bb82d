import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@forge/core/internal';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { checkHealth, grpcAgent } from '@forge/transport-grpc';
import { afterEach, describe, expect, it } from 'vitest';
import { programArgs } from '../../../scripts/test-support/program-bundle.js';

const podDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** src/main.ts, bundled once per test run (programArgs: ~1 s of CPU less per start than through tsx). */
const mainArgs = await programArgs(join(podDir, 'src/main.ts'));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts the pod program as its own process, the way the container does, and waits until it listens. */
async function startPod(env: Record<string, string>) {
  const child = spawn(process.execPath, mainArgs, {
    cwd: podDir,
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.message === 'agent pod listening') resolve(line.url as string);
      }
    });
    void exited.then((code) =>
      reject(new Error(`the pod exited (${code}) before listening: ${stderr}${JSON.stringify(lines)}`)),
    );
  });
  return { child, lines, exited, listening, stderr: () => stderr };
}

describe('examples/agent-pod', () => {
  it('serves FORGE_PROVIDER=scripted, answers health, and drains then exits 0 on SIGTERM', {
    timeout: 30_000,
  }, async () => {
    const port = await freePort();
    const pod = await startPod({
      FORGE_PROVIDER: 'scripted',
      PORT: String(port),
      FORGE_GRACE_MS: '300',
      FORGE_AUTH_TOKEN: 'pod-secret',
    });
    const url = await pod.listening;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await checkHealth(url)).toBe('SERVING');

    const agent = grpcAgent({ baseUrl: url, provider: 'pod', authToken: 'pod-secret' });
    try {
      expect((await agent.status()).provider).toBe('scripted');
      const { events, result } = await collectRun(agent.execute({ prompt: 'hello pod' }));
      expect(runProblems(events)).toEqual([]);
      expect(result).toMatchObject({ status: 'completed', text: 'echo: hello pod' });

      // A run still going when the pod is told to stop is drained, then cancelled.
      const live = agent.execute({ prompt: 'please hang' });
      await firstEvent(live).event;
      pod.child.kill('SIGTERM');
      expect((await live.result).status).toBe('cancelled');
      expect(await pod.exited).toBe(0);
      expect(pod.lines.map((l) => l.message)).toEqual(
        expect.arrayContaining(['agent pod stopping', 'agent pod stopped']),
      );
      expect(pod.lines.find((l) => l.message === 'agent pod stopped')).toMatchObject({ finished: 0, cancelled: 1 });
    } finally {
      await agent.close();
    }
  });

  it('exits 0 after a Shutdown call', { timeout: 30_000 }, async () => {
    const pod = await startPod({ FORGE_PROVIDER: 'scripted', PORT: String(await freePort()) });
    const agent = grpcAgent({ baseUrl: await pod.listening });
    try {
      expect(await agent.shutdown({ graceful: true, graceMs: 100 })).toEqual({ finished: 0, cancelled: 0 });
      expect(await pod.exited).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('serves https with FORGE_TLS_* and its container health check passes', { timeout: 30_000 }, async () => {
    const fixtures = join(podDir, '..', '..', 'packages', 'transport-grpc', 'src', '__fixtures__');
    const port = await freePort();
    const pod = await startPod({
      FORGE_PROVIDER: 'scripted',
      PORT: String(port),
      FORGE_TLS_CERT_FILE: join(fixtures, 'tls-cert.pem'),
      FORGE_TLS_KEY_FILE: join(fixtures, 'tls-key.pem'),
    });
    expect(await pod.listening).toBe(`https://127.0.0.1:${port}`);
    const probe = spawn(process.execPath, ['--conditions=@forge/source', '--import', 'tsx', 'src/healthcheck.ts'], {
      cwd: podDir,
      env: { ...process.env, PORT: String(port), FORGE_TLS_CERT_FILE: 'set' },
      stdio: 'ignore',
    });
    children.push(probe);
    expect(await new Promise((resolve) => probe.once('exit', resolve))).toBe(0);
    pod.child.kill('SIGTERM');
    expect(await pod.exited).toBe(0);
  });

  it('refuses to start without a known FORGE_PROVIDER, saying why', { timeout: 30_000 }, async () => {
    const pod = await startPod({ FORGE_PROVIDER: 'nope', PORT: String(await freePort()) });
    expect(await pod.exited).toBe(2);
    await expect(pod.listening).rejects.toThrow(
      /FORGE_PROVIDER must be one of claude-code, opencode, codex, gemini, acp, scripted/,
    );
  });
});
