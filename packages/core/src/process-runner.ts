/** Where a CLI adapter's process runs: locally, in a pod through exec, or scripted in tests. */
export interface ProcessRunner {
  /** Resolves once the process has started; rejects with ProcessSpawnError when it cannot. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): Promise<RunningProcess>;
}

export interface SpawnOptions {
  cwd?: string;
  /** The full environment of the process when `inheritEnv` is false; else added to the runner's. */
  env?: Record<string, string>;
  /**
   * Default true: start from what the runner passes on from its host (for a local runner, an
   * allow-list of harmless variables, not the host's whole environment). False: `env` is all.
   */
  inheritEnv?: boolean;
  /**
   * Host variables this process needs besides the runner's allow-list (a provider's credentials,
   * e.g. `ANTHROPIC_*`): exact names or prefixes ending in `*`, copied when set. Runners whose
   * processes live elsewhere (a pod) ignore it.
   */
  passEnv?: readonly string[];
  /** Written to stdin, which is then closed. Leave undefined to write with `process.stdin`. */
  input?: string | Uint8Array;
}

export interface ProcessExit {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: string | null;
}

export interface ProcessStdin {
  write(data: string | Uint8Array): Promise<void>;
  end(): Promise<void>;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  readonly stdout: AsyncIterable<Uint8Array>;
  readonly stderr: AsyncIterable<Uint8Array>;
  readonly stdin: ProcessStdin;
  /** Sends a signal; false when the process has already exited or the runner cannot signal. */
  kill(signal?: NodeJS.Signals): boolean;
  readonly exited: Promise<ProcessExit>;
  /**
   * Optional: stop (`unref`) or go back to (`ref`) keeping the host's event loop alive for this process and its
   * pipes — for a process kept idle between runs (a warm session), which must not hold the host open.
   */
  unref?(): void;
  ref?(): void;
}
