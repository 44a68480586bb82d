import type { AgentCapabilities } from './agent.js';
import { describeError } from './errors.js';
import type { ProcessRunner, RunningProcess } from './process-runner.js';
import { exitWithin, stopProcess } from './stop-process.js';

export interface VersionProbe {
  version?: string;
  /** Why no version could be found (missing binary, odd output, no answer in time). */
  error?: string;
  /**
   * The CLI cannot run here: it could not be started (missing binary or cwd), its output could not be read, or
   * `noVersion` found it broken. A CLI that starts but prints something odd is still available.
   */
  unavailable?: boolean;
}

/** What a probe tells capabilities(): the version, and whether (and if not, why not) the CLI can run. */
export function probedAvailability(
  probe: VersionProbe,
): Pick<AgentCapabilities, 'version' | 'available' | 'unavailableReason'> {
  return {
    ...(probe.version ? { version: probe.version } : {}),
    available: !probe.unavailable,
    ...(probe.unavailable && probe.error ? { unavailableReason: probe.error } : {}),
  };
}

/** Where and how long: the adapter's process options. */
export interface VersionProbeTarget {
  env?: Record<string, string> | undefined;
  passEnv?: readonly string[] | undefined;
  cwd?: string | undefined;
  timeoutMs: number;
}

export interface VersionProbeOptions extends VersionProbeTarget {
  /** The version is the first group of this pattern's match on stdout. */
  pattern: RegExp;
  /**
   * What to say when stdout holds no version, given stdout and (up to 4 KiB of) stderr. Default: the start of
   * stdout.
   */
  noVersion?: (stdout: string, stderr: string) => VersionProbe;
}

const KEEP_CHARS = 4096;

/**
 * Runs `<bin> --version` through the runner, for a CLI adapter's capabilities(). Never throws: a failure is
 * reported, not raised. The process does not outlive the probe.
 */
export async function probeVersion(
  runner: ProcessRunner,
  bin: string,
  options: VersionProbeOptions,
): Promise<VersionProbe> {
  let proc: RunningProcess;
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
  const read = readText(proc.stdout, true);
  // stderr is read (bounded) so a chatty CLI cannot block on a full pipe, and kept for `noVersion`.
  const readErr = readText(proc.stderr, false).catch(() => '');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), options.timeoutMs);
  });
  let answered = false;
  try {
    const out = await Promise.race([read, timedOut]);
    answered = out !== undefined;
    if (out === undefined) return { error: `"${bin} --version" gave no answer within ${options.timeoutMs} ms` };
    const match = options.pattern.exec(out);
    if (match) return { version: match[1]! };
    if (!options.noVersion) return { error: `"${bin} --version" printed no version: ${out.trim().slice(0, 200)}` };
    return options.noVersion(out, (await Promise.race([readErr, timedOut])) ?? '');
  } catch (error) {
    return { error: describeError(error).message, unavailable: true };
  } finally {
    clearTimeout(timer);
    if (!(await exitWithin(proc, answered ? 1_000 : 0)))
      await stopProcess(proc, { sigintGraceMs: 0, sigtermGraceMs: 1_000 }, 'SIGTERM');
  }
}

/** The stream's text up to about 4 KiB; stdout stops reading there, stderr reads on (and drops the rest). */
async function readText(stream: AsyncIterable<Uint8Array>, stopAtLimit: boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    if (text.length <= KEEP_CHARS) text += decoder.decode(chunk, { stream: true });
    if (stopAtLimit && text.length > KEEP_CHARS) break;
  }
  return text + decoder.decode();
}
