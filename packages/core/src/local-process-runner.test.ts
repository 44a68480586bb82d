import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessSpawnError } from './errors.js';
import { DEFAULT_INHERITED_ENV, isInherited, localProcessRunner } from './local-process-runner.js';

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

  describe('environment', () => {
    const printEnv = [process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))']] as const;
    const envOf = async (r = runner, options = {}) => {
      const proc = await r.spawn(printEnv[0], printEnv[1], options);
      const [out] = await Promise.all([text(proc.stdout), proc.exited]);
      return JSON.parse(out) as Record<string, string>;
    };
    const host = process.env;
    beforeEach(() => {
      process.env = { ...host, FORGE_API_KEYS: 'alice:alice-secret-key', SOME_TOKEN: 'tok', LC_ALL: 'C.UTF-8' };
    });
    afterEach(() => {
      process.env = host;
    });

    it('passes only the allow-listed host variables, not the host environment', async () => {
      const env = await envOf();
      expect(env.FORGE_API_KEYS).toBeUndefined();
      expect(env.SOME_TOKEN).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.LC_ALL).toBe('C.UTF-8');
      for (const name of Object.keys(env)) expect(isInherited(name, DEFAULT_INHERITED_ENV)).toBe(true);
    });

    it("adds the runner's and the request's variables, and names passed on request", async () => {
      const env = await envOf(localProcessRunner({ env: { A: '1' } }), {
        env: { B: '2' },
        passEnv: ['SOME_*', 'NOT_SET'],
      });
      expect(env).toMatchObject({ A: '1', B: '2', SOME_TOKEN: 'tok' });
      expect(env.FORGE_API_KEYS).toBeUndefined();
      expect('NOT_SET' in env).toBe(false);
    });

    it('inherits everything only when asked to, and nothing with inheritEnv false', async () => {
      expect((await envOf(localProcessRunner({ inheritEnv: true }))).FORGE_API_KEYS).toBe('alice:alice-secret-key');
      expect(await envOf(runner, { inheritEnv: false, env: { ONLY: 'me' } })).toEqual({ ONLY: 'me' });
    });
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
