import { describeError, type ProcessRunner } from '@forge/core';
import { exitWithin, stopProcess } from '@forge/core/internal';

export interface VersionProbe {
  version?: string;
  /** Why no version could be found (missing binary, odd output, no answer in time). */
  error?: string;
  /** The CLI could not be started at all (missing binary or cwd): the provider is unavailable. */
  spawnFailed?: boolean;
}

const VERSION = /^\s*v?(\d+\.\d+\.\d+[\w.+-]*)/;

/** Runs `<bin> --version` through the runner. Never throws: a failure is reported, not raised. */
export async function probeClaudeVersion(
  runner: ProcessRunner,
  bin: string,
  options: {
    env?: Record<string, string> | undefined;
    passEnv?: readonly string[] | undefined;
    cwd?: string | undefined;
    timeoutMs: number;
  },
): Promise<VersionProbe> {
  let proc: Awaited<ReturnType<ProcessRunner['spawn']>>;
  try {
    proc = await runner.spawn(bin, ['--version'], {
      ...(options.env ? { env: options.env } : {}),
      ...(options.passEnv ? { passEnv: options.passEnv } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      input: '',
    });
  } catch (error) {
    return { error: describeError(error).message, spawnFailed: true };
  }
  const read = (async () => {
    const decoder = new TextDecoder();
    let out = '';
    for await (const chunk of proc.stdout) {
      out += decoder.decode(chunk, { stream: true });
      if (out.length > 4096) break;
    }
    return out + decoder.decode();
  })();
  // stderr is drained so a chatty CLI cannot block on a full pipe.
  const drainErr = (async () => {
    for await (const _ of proc.stderr) void _;
  })().catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), options.timeoutMs);
  });
  let answered = false;
  try {
    const out = await Promise.race([read, timedOut]);
    answered = out !== undefined;
    if (out === undefined) return { error: `"${bin} --version" gave no answer within ${options.timeoutMs} ms` };
    const match = VERSION.exec(out);
    return match
      ? { version: match[1]! }
      : { error: `"${bin} --version" printed no version: ${out.trim().slice(0, 200)}` };
  } catch (error) {
    return { error: describeError(error).message, spawnFailed: true };
  } finally {
    clearTimeout(timer);
    if (!(await exitWithin(proc, answered ? 1_000 : 0)))
      await stopProcess(proc, { sigintGraceMs: 0, sigtermGraceMs: 1_000 }, 'SIGTERM');
    void drainErr;
  }
}
