import { describeError, type ProcessRunner } from '@forge/core';
import { exitWithin, stopProcess } from '@forge/core/internal';

export interface VersionProbe {
  version?: string;
  /** Why no version could be found (missing binary, odd output, no answer in time). */
  error?: string;
  /** The CLI cannot run here: it could not be started, or the npm wrapper has no native binary. */
  unavailable?: boolean;
}

/** `codex-cli 0.171.0` (the CLI) — the name is optional so a wrapper printing the bare version passes. */
const VERSION = /^\s*(?:codex(?:-cli)?\s+)?v?(\d+\.\d+\.\d+[\w.+-]*)/;

/** Runs `<bin> --version` through the runner. Never throws: a failure is reported, not raised. */
export async function probeCodexVersion(
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
    return { error: describeError(error).message, unavailable: true };
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
  // stderr is kept (bounded): the npm wrapper without its native package explains itself there.
  const readErr = (async () => {
    const decoder = new TextDecoder();
    let err = '';
    for await (const chunk of proc.stderr) if (err.length < 4096) err += decoder.decode(chunk, { stream: true });
    return err;
  })().catch(() => '');
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
    if (match) return { version: match[1]! };
    const err = await Promise.race([readErr, timedOut]);
    const lines = (out.trim() || err?.trim() || '').split('\n');
    // The wrapper's own sentence (`Error: Missing optional dependency …`) rather than its stack's `throw new Error(`.
    const said = lines.find((l) => /^\s*Error:/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? out.trim();
    const probe: VersionProbe = { error: `"${bin} --version" printed no version: ${said.slice(0, 300)}` };
    if (/Missing optional dependency/.test(err ?? '')) probe.unavailable = true;
    return probe;
  } catch (error) {
    return { error: describeError(error).message };
  } finally {
    clearTimeout(timer);
    if (!(await exitWithin(proc, answered ? 1_000 : 0)))
      await stopProcess(proc, { sigintGraceMs: 0, sigtermGraceMs: 1_000 }, 'SIGTERM');
  }
}
