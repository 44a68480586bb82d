import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcessSpawnError } from './errors.js';
import { localProcessRunner } from './local-process-runner.js';

async function text(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let out = '';
  for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

/** A zombie (killed, not yet reaped by a PID 1 that does not reap) counts as gone. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('localProcessRunner', () => {
  const runner = localProcessRunner();

  it('runs a command with args, cwd, env and stdin, and reports its exit', async () => {
    const proc = await runner.spawn(
      process.execPath,
      [
        '-e',
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(process.cwd(), process.env.FOO, s.length);console.error("warn");process.exit(3)})',
      ],
      { cwd: '/tmp', env: { FOO: 'bar' }, input: 'x'.repeat(1_000_000) },
    );
    const [out, err, exit] = await Promise.all([text(proc.stdout), text(proc.stderr), proc.exited]);
    expect(out.trim()).toBe('/tmp bar 1000000');
    expect(err.trim()).toBe('warn');
    expect(exit).toEqual({ code: 3, signal: null });
  });

  it('fails to spawn a missing binary with a typed error', async () => {
    await expect(runner.spawn('forge-no-such-binary', [])).rejects.toBeInstanceOf(ProcessSpawnError);
  });

  it('delivers signals and reports the signal at exit', async () => {
    const proc = await runner.spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)']);
    expect(proc.kill('SIGTERM')).toBe(true);
    expect(await proc.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(proc.kill('SIGTERM')).toBe(false);
  });

  it('leaves no process of the group behind after exit', async () => {
    const proc = await runner.spawn('sh', ['-c', 'sleep 30 & echo $!']);
    const pid = Number((await text(proc.stdout)).trim());
    await proc.exited;
    await new Promise((r) => setTimeout(r, 50));
    expect(isRunning(pid)).toBe(false);
  });
});
