import type { ProcessExit, RunningProcess } from './process-runner.js';

export interface StopGrace {
  /** After SIGINT, how long the program may take to report and exit before SIGTERM. */
  sigintGraceMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  sigtermGraceMs: number;
}

/**
 * Stops a process the way agent CLIs are designed to be stopped: SIGINT first (Claude Code and Codex both end the
 * running tool, report and exit), then SIGTERM, then SIGKILL, each after its grace period. Resolves once the
 * process has exited. Safe to call more than once. The graces are the adapter's: they are the CLI's.
 */
export function stopProcess(
  proc: RunningProcess,
  grace: StopGrace,
  first: NodeJS.Signals = 'SIGINT',
): Promise<ProcessExit> {
  const ladder: Array<[NodeJS.Signals, number]> =
    first === 'SIGINT'
      ? [
          ['SIGINT', grace.sigintGraceMs],
          ['SIGTERM', grace.sigtermGraceMs],
          ['SIGKILL', 0],
        ]
      : first === 'SIGTERM'
        ? [
            ['SIGTERM', grace.sigtermGraceMs],
            ['SIGKILL', 0],
          ]
        : [['SIGKILL', 0]];
  let exited = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const step = (i: number) => {
    if (exited || i >= ladder.length) return;
    const [signal, wait] = ladder[i]!;
    proc.kill(signal);
    if (i + 1 < ladder.length) timer = setTimeout(() => step(i + 1), wait);
  };
  step(0);
  return proc.exited.finally(() => {
    exited = true;
    if (timer) clearTimeout(timer);
  });
}

/** Resolves with the exit, or undefined when `ms` passes first. */
export function exitWithin(proc: RunningProcess, ms: number): Promise<ProcessExit | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([proc.exited, late]).finally(() => clearTimeout(timer));
}
