import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { expect, it } from 'vitest';
import { grpcAgent } from './client.js';
import { TransportCodes } from './errors.js';

const here = dirname(fileURLToPath(import.meta.url));

it('ends runs on a server that stops answering (frozen process) via HTTP/2 keep-alive PINGs, without hanging', {
  timeout: 30_000,
}, async () => {
  const child = spawn(
    process.execPath,
    ['--conditions=@forge/source', '--import', 'tsx', join(here, 'test-support', 'serve-hanging.ts')],
    {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const agent = grpcAgent({ baseUrl: url, pingIntervalMs: 200, pingTimeoutMs: 300, stopGraceMs: 500 });
    try {
      const runs = [agent.execute({ prompt: 'a' }), agent.execute({ prompt: 'b' })];
      const readings = runs.map((r) => firstEvent(r));
      await Promise.all(readings.map((r) => r.event));
      child.kill('SIGSTOP'); // the process is alive and its socket open, but nothing answers
      for (const [i, reading] of readings.entries()) {
        const events = await reading.all;
        expect(runProblems(events, runs[i]!.id)).toEqual([]);
        expect((await runs[i]!.result).error?.code).toBe(TransportCodes.TRANSPORT_BROKEN);
      }
      // A new run does not hang either: the frozen server cannot be reached.
      const { result } = await collectRun(agent.execute({ prompt: 'c', timeoutMs: 1_000 }));
      expect(result.status).not.toBe('completed');
    } finally {
      child.kill('SIGKILL');
      await agent.close();
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
});
