import { checkMaxLineBytes } from './json-lines.js';
import { localProcessRunner } from './local-process-runner.js';
import type { ProcessRunner } from './process-runner.js';
import type { AgentPolicyOptions } from './agent-policy-options.js';
import type { RunOptions } from './run.js';
import type { StopGrace } from './stop-process.js';

/** Where an adapter's agent process runs and what it starts with: what every CLI adapter (acp too) takes. */
export interface CliProcessOptions {
  /** Where the CLI runs. Default: `localProcessRunner()` (this machine); a pod's `execRunner` works the same. */
  runner?: ProcessRunner;
  /**
   * Added to the process's environment (the runner's minimal set, plus `passEnv`; acp with `inheritEnv: false`:
   * all of it). claude-code and codex add a request's `env` over it; acp takes none per run (one process serves
   * every run). codex: `CODEX_HOME` must exist.
   */
  env?: Record<string, string>;
  /**
   * Host variables the process gets besides the runner's minimal set (names, or prefixes ending in `*`), such
   * as its API key. Default: the CLI's own, nothing else of the host's (`CLAUDE_PASS_ENV`; `CODEX_PASS_ENV`,
   * plus `provider.envKey` when the key is not given as `apiKey`); acp: none, its presets set theirs.
   */
  passEnv?: readonly string[];
  /** Working directory of the process, and of a run whose request names none. */
  cwd?: string;
}

/**
 * The options every adapter that drives a CLI process per run (claude-code, codex) takes, documented once
 * here; an adapter's own options interface extends this one with what only it has.
 */
export interface CliAgentOptions extends RunOptions, CliProcessOptions, AgentPolicyOptions {
  /** The CLI executable. Default: the adapter's CLI on PATH (`claude`, `codex`). */
  bin?: string;
  /** Added to every run's argv, before the arguments the adapter derives from the request. */
  extraArgs?: readonly string[];
  /**
   * After SIGINT, how long before SIGTERM; for claude-code also how long the CLI may take to report its
   * result after a cancel's `interrupt` request, before the signals start. Default 3,000 ms (claude-code),
   * 2,000 ms (codex).
   */
  sigintGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 2,000 ms. */
  sigtermGraceMs?: number;
  /**
   * How long the CLI may take to exit on its own once its turn is over (its output ended, its stdin closed)
   * before it is stopped. Default 5,000 ms.
   */
  exitGraceMs?: number;
  /** Cap on one stdout line; longer lines become `error` events. Default 16 MiB. */
  maxLineBytes?: number;
  /** How much of stderr is kept for the error of a run that ends without a result. Default 4 KiB. */
  stderrTailBytes?: number;
  /** Limit on `<bin> --version` for capabilities(). Default 10,000 ms. */
  versionTimeoutMs?: number;
}

type CliKey = Exclude<keyof CliAgentOptions, keyof RunOptions | keyof AgentPolicyOptions>;

/** The adapter's own defaults, where they differ between CLIs. */
export interface CliAgentDefaults {
  bin: string;
  passEnv: readonly string[];
  sigintGraceMs?: number;
}

/** `CliAgentOptions` with every default applied. */
export interface ResolvedCliAgentOptions {
  runner: ProcessRunner;
  bin: string;
  extraArgs: readonly string[] | undefined;
  env: Record<string, string> | undefined;
  passEnv: readonly string[];
  cwd: string | undefined;
  grace: StopGrace;
  exitGraceMs: number;
  /** Checked already; undefined: the parser's default. */
  maxLineBytes: number | undefined;
  stderrTailBytes: number;
  versionTimeoutMs: number;
}

/**
 * Splits an adapter's options into the shared CLI options, with defaults applied and checked (a bad one
 * fails at construction, not on the first run), and the rest: the adapter's own options and `RunOptions`.
 */
export function cliAgentOptions<O extends CliAgentOptions>(
  options: O,
  defaults: CliAgentDefaults,
): { cli: ResolvedCliAgentOptions; rest: Omit<O, CliKey> } {
  const {
    runner = localProcessRunner(),
    bin = defaults.bin,
    extraArgs,
    env,
    passEnv = defaults.passEnv,
    cwd,
    sigintGraceMs = defaults.sigintGraceMs ?? 2_000,
    sigtermGraceMs = 2_000,
    exitGraceMs = 5_000,
    maxLineBytes,
    stderrTailBytes = 4096,
    versionTimeoutMs = 10_000,
    ...rest
  } = options;
  if (maxLineBytes !== undefined) checkMaxLineBytes(maxLineBytes);
  return {
    cli: {
      runner,
      bin,
      extraArgs,
      env,
      passEnv,
      cwd,
      grace: { sigintGraceMs, sigtermGraceMs },
      exitGraceMs,
      maxLineBytes,
      stderrTailBytes,
      versionTimeoutMs,
    },
    rest,
  };
}
