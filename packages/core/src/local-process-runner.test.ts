import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessSpawnError } from './errors.js';
import { DEFAULT_INHERITED_ENV, isInherited, localProcessRunner } from './local-process-runner.js';
import { lookupOsUser, userSwitchProblem } from './os-user.js';
import { reapOrphanProcesses } from './process-ledger.js';
import { PROCESS_TAG_VAR } from './process-tree.js';

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
      for (const name of Object.keys(env)) {
        if (name !== PROCESS_TAG_VAR) expect(isInherited(name, DEFAULT_INHERITED_ENV), name).toBe(true);
      }
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
      const only = await envOf(runner, { inheritEnv: false, env: { ONLY: 'me' } });
      expect(only).toEqual({ ONLY: 'me', [PROCESS_TAG_VAR]: expect.stringMatching(/^[0-9a-f]{24}$/) });
    });
  });

  it('unref(): a process kept idle (a warm session) does not hold its host open; ref() takes it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-unref-'));
    try {
      const script = join(dir, 'host.mts');
      const runnerPath = fileURLToPath(new URL('./local-process-runner.ts', import.meta.url));
      // The child would keep its pipes open for a minute; with unref() the host is free to end at once.
      writeFileSync(
        script,
        `import { localProcessRunner } from ${JSON.stringify(runnerPath)};
const proc = await localProcessRunner().spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
void (async () => { for await (const _ of proc.stdout) void _; })();
proc.ref?.();
proc.unref?.();
console.log('pid', proc.pid);
`,
      );
      const host = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      host.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => host.once('exit', resolve));
      expect(code).toBe(0);
      const pid = Number(/pid (\d+)/.exec(out)?.[1]);
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone: the runner ended it with its host
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

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

  describe('processes that outlive their owner (setsid, re-parenting)', () => {
    const marker = (n: number) => `${1000 + n}.${process.pid}${Math.floor(Math.random() * 1e6)}`;
    /** Living (not zombie) processes whose command line holds `text`. */
    const survivors = (text: string) =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text) && isRunning(Number(p));
          } catch {
            return false;
          }
        });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && survivors(text).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(survivors(text), `${text} started`).not.toEqual([]);
    };
    /**
     * The survivors once SIGKILL has had time to land: the runner sends it as the process exits, but a killed
     * process still needs a turn on a CPU to die (seen alive at once in a run at load 8). One that was never
     * killed is still there after the wait: the markers sleep for over 1,000 s.
     */
    const gone = async (text: string) => {
      for (let i = 0; i < 200 && survivors(text).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      return survivors(text);
    };
    const cleanup: string[] = [];
    afterEach(() => {
      for (const text of cleanup.splice(0)) for (const pid of survivors(text)) process.kill(Number(pid), 'SIGKILL');
    });

    it('ends a grandchild in its own session when the process is cancelled (SIGTERM)', async () => {
      const m = marker(1);
      cleanup.push(m);
      const proc = await runner.spawn('sh', ['-c', `setsid sleep ${m} & wait`]);
      await waitFor(m);
      expect(proc.kill('SIGTERM')).toBe(true);
      await proc.exited;
      expect(await gone(m)).toEqual([]);
    });

    it('ends it when the process exits by itself at once, and when it is SIGKILLed', async () => {
      const m = marker(2);
      cleanup.push(m);
      const quick = await runner.spawn('sh', ['-c', `setsid sleep ${m} > /dev/null 2>&1 & echo started`]);
      await Promise.all([text(quick.stdout), quick.exited]);
      expect(await gone(m)).toEqual([]);

      const m2 = marker(3);
      cleanup.push(m2);
      const killed = await runner.spawn('sh', ['-c', `setsid sleep ${m2} & wait`]);
      await waitFor(m2);
      expect(killed.kill('SIGKILL')).toBe(true);
      await killed.exited;
      expect(await gone(m2)).toEqual([]);
    });

    it('ends a grandchild that dropped its environment (no tag) through the tree recorded while it lived', async () => {
      const m = marker(4);
      cleanup.push(m);
      const proc = await runner.spawn('sh', ['-c', `env -i setsid sleep ${m} & wait`]);
      await waitFor(m);
      proc.kill('SIGTERM');
      await proc.exited;
      expect(await gone(m)).toEqual([]);
    });

    it('records live processes in a state dir, and the next instance reaps what a kill -9 left', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'forge-reap-'));
      const stateDir = join(dir, 'processes');
      const m1 = marker(5);
      const m2 = marker(6);
      cleanup.push(m1, m2);
      try {
        // The owner: a host process with a runner recording into stateDir.
        const script = join(dir, 'owner.mts');
        const runnerPath = fileURLToPath(new URL('./local-process-runner.ts', import.meta.url));
        writeFileSync(
          script,
          `import { localProcessRunner } from ${JSON.stringify(runnerPath)};
const proc = await localProcessRunner({ stateDir: ${JSON.stringify(stateDir)} }).spawn('sh', ['-c', 'setsid sleep ${m1} & sleep ${m2}']);
console.log('started', proc.pid);
setInterval(() => {}, 1000);
`,
        );
        const owner = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve, reject) => {
          owner.stdout.on('data', (c: Buffer) => c.toString().includes('started') && resolve());
          owner.once('exit', (code) => reject(new Error(`owner exited ${code}`)));
        });
        await waitFor(m1);
        await waitFor(m2);
        expect(readdirSync(stateDir)).toHaveLength(1);
        // While the owner lives, its entries are not another instance's to reap.
        expect(reapOrphanProcesses(stateDir)).toEqual({ reaped: 0, killed: 0 });
        owner.kill('SIGKILL');
        await new Promise((r) => owner.once('exit', r));
        expect(survivors(m1)).not.toEqual([]); // what kill -9 leaves behind
        const reaped = reapOrphanProcesses(stateDir);
        expect(reaped.reaped).toBe(1);
        expect(reaped.killed).toBeGreaterThanOrEqual(3);
        expect(await gone(m1)).toEqual([]);
        expect(await gone(m2)).toEqual([]);
        expect(readdirSync(stateDir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);
  });

  /**
   * Needs root (or CAP_SETUID and friends): creates the OS user `forge-agent-test` (a system user
   * without a home) when it is missing, and leaves it. Elsewhere it is skipped, saying why.
   */
  const cannot = userSwitchProblem();
  if (cannot) console.warn(`\n*** SKIPPING localProcessRunner({ user }) tests: ${cannot} ***\n`);
  describe.skipIf(cannot !== undefined)('as another user ({ user })', () => {
    const name = 'forge-agent-test';
    const as = () => {
      try {
        execFileSync('id', [name], { stdio: 'ignore' });
      } catch {
        execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
      }
      const user = lookupOsUser(name);
      return { user, runner: localProcessRunner({ user: { ...user, home: '/tmp' } }) };
    };
    const run = async (r: ReturnType<typeof localProcessRunner>, script: string) => {
      const proc = await r.spawn('sh', ['-c', script]);
      const [out, err, exit] = await Promise.all([text(proc.stdout), text(proc.stderr), proc.exited]);
      return { out, err, exit };
    };

    it('runs as that user and group only, with its HOME, USER and LOGNAME', async () => {
      const { user, runner: r } = as();
      const { out } = await run(r, 'echo "$(id -u) $(id -g) $(id -G) $HOME $USER $LOGNAME"');
      expect(out.trim()).toBe(`${user.uid} ${user.gid} ${user.gid} /tmp ${name} ${name}`);
    });

    it("cannot read the host's /proc/<pid>/environ, which still holds what the host deleted from process.env", async () => {
      const { runner: r } = as();
      const { out, err } = await run(
        r,
        `cat /proc/${process.pid}/environ; cat /proc/$$/environ | tr '\\0' '\\n' | grep -c ${PROCESS_TAG_VAR}`,
      );
      expect(err).toMatch(/Permission denied/);
      expect(out.trim()).toBe('1'); // its own, it can
    });

    it('ends what it started in a session of its own, as for the host user', async () => {
      const { runner: r } = as();
      const m = `1031.${process.pid}${Math.floor(Math.random() * 1e6)}`;
      const proc = await r.spawn('sh', ['-c', `setsid sleep ${m} & wait`]);
      const living = () =>
        readdirSync('/proc').filter((p) => {
          try {
            return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(m) && isRunning(Number(p));
          } catch {
            return false;
          }
        });
      for (let i = 0; i < 200 && living().length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      expect(living()).not.toEqual([]);
      expect(proc.kill('SIGKILL')).toBe(true);
      await proc.exited;
      expect(living()).toEqual([]);
    });
  });
});
