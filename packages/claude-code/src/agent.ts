import {
  createCodeAgent,
  localProcessRunner,
  silentLogger,
  UnsupportedError,
  type AgentCapabilities,
  type CodeAgent,
  type PermissionMode,
  type ProcessExit,
  type ProcessRunner,
  type RunOptions,
} from '@forge/core';
import { buildClaudeArgs, sessionArgs } from './args.js';
import { ClaudeProcess } from './claude-process.js';
import { claudeCodeDeclaredCapabilities } from './declared-capabilities.js';
import { playTurn } from './turn.js';
import { StreamJsonParser } from './stream-json.js';
import { probeClaudeVersion, type VersionProbe } from './version.js';
import { WarmPool, type WarmSessionsOptions } from './warm-pool.js';

export const PROVIDER = 'claude-code';

/** What the CLI reads from its environment to reach its model and behave: key, base URL, switches. */
export const CLAUDE_PASS_ENV: readonly string[] = Object.freeze(['ANTHROPIC_*', 'CLAUDE_*', 'DISABLE_*']);

export interface ClaudeCodeOptions extends RunOptions {
  /** Where the CLI runs. Default: `localProcessRunner()` (this machine). */
  runner?: ProcessRunner;
  /** The CLI executable. Default `claude` (on PATH). */
  bin?: string;
  /** Added to every run's argv, before the tool lists. */
  extraArgs?: readonly string[];
  /** Model when the request names none. */
  model?: string;
  /** Permission mode when the request names none. */
  permissionMode?: PermissionMode;
  /** Added to the CLI's environment (a request's `env` is added over it). */
  env?: Record<string, string>;
  /**
   * Host variables the CLI gets besides the runner's minimal set (names, or prefixes ending in
   * `*`). Default `CLAUDE_PASS_ENV`: its API key, endpoint and settings, nothing else of the host's.
   */
  passEnv?: readonly string[];
  /** Working directory when the request names none. */
  cwd?: string;
  /**
   * After a cancel's `interrupt` request, how long the CLI may take to report its `result` before the
   * signals start; and after SIGINT, how long before SIGTERM. Default 3,000 ms.
   */
  sigintGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 2,000 ms. */
  sigtermGraceMs?: number;
  /** How long the CLI may take to exit once its stdin is closed (or its output has ended). Default 5,000 ms. */
  exitGraceMs?: number;
  /** Cap on one stdout line; longer lines become `error` events. Default 16 MiB. */
  maxLineBytes?: number;
  /** How much of stderr is kept for the error of a run that ends without a result. Default 4 KiB. */
  stderrTailBytes?: number;
  /** Ask for `stream_event` lines, so text arrives as `text.delta`. Default true. */
  partialMessages?: boolean;
  /** Limit on `<bin> --version` for capabilities(). Default 10,000 ms. */
  versionTimeoutMs?: number;
  /**
   * Keep a session's CLI process up between turns, so `execute({ sessionId })` writes the next message into it
   * instead of starting `--resume`. Default `{ idleMs: 60_000, max: 8 }`; `false` ends the process after each run.
   */
  warmSessions?: WarmSessionsOptions | false;
}

/** The Claude Code CLI (`claude -p`, stream-json in and out, with the control protocol) as a CodeAgent. */
export function claudeCode(options: ClaudeCodeOptions = {}): CodeAgent {
  const {
    runner = localProcessRunner(),
    bin = 'claude',
    extraArgs,
    model,
    permissionMode,
    env,
    passEnv = CLAUDE_PASS_ENV,
    cwd,
    sigintGraceMs = 3_000,
    sigtermGraceMs = 2_000,
    exitGraceMs = 5_000,
    maxLineBytes,
    stderrTailBytes = 4096,
    partialMessages = true,
    versionTimeoutMs = 10_000,
    warmSessions = {},
    ...runOptions
  } = options;
  // Fail at construction, not on the first run.
  if (maxLineBytes !== undefined) new StreamJsonParser(() => {}, { maxLineBytes });
  const logger = runOptions.logger ?? silentLogger;
  const grace = { sigintGraceMs, sigtermGraceMs };
  let version: Promise<VersionProbe> | undefined;
  /** Every process this agent started that has not been seen to exit: `close()` ends them all. */
  const processes = new Set<ClaudeProcess>();
  const ending = new Set<Promise<ProcessExit>>();
  const retire = (p: ClaudeProcess): void => {
    const done = p.end().finally(() => ending.delete(done));
    ending.add(done);
  };
  const pool = warmSessions === false ? undefined : new WarmPool(warmSessions, retire);

  const capabilities = async (): Promise<AgentCapabilities> => {
    version ??= probeClaudeVersion(runner, bin, { env, passEnv, cwd, timeoutMs: versionTimeoutMs });
    const probe = await version;
    return {
      ...claudeCodeDeclaredCapabilities({ partialMessages }),
      ...(probe.version ? { version: probe.version } : {}),
      // Availability (issue 16): false only when the CLI could not be started at all.
      available: !probe.spawnFailed,
      ...(probe.spawnFailed && probe.error ? { unavailableReason: probe.error } : {}),
      extra: {
        bin,
        permissionModes: ['default', 'acceptEdits', 'bypassPermissions', 'plan'],
        warmSessions: pool !== undefined,
        ...(probe.error ? { versionError: probe.error } : {}),
      },
    };
  };

  const start = async (args: string[], runCwd: string | undefined, runEnv: Record<string, string>) => {
    // No `input`: stdin stays open for control responses and later turns.
    const proc = await runner.spawn(bin, args, {
      ...(runCwd !== undefined ? { cwd: runCwd } : {}),
      env: runEnv,
      passEnv,
    });
    const p = new ClaudeProcess(proc, { maxLineBytes, stderrTailBytes, grace, exitGraceMs, logger });
    processes.add(p);
    void proc.exited.then(() => processes.delete(p));
    // The initialize handshake, as the Agent SDK opens every session; its answer is not needed to go on.
    void p.request({ subtype: 'initialize', hooks: null }).then((answer) => {
      const response = answer?.response as { subtype?: unknown; error?: unknown } | undefined;
      if (response?.subtype === 'error')
        logger.warn('claude-code: the CLI refused the initialize request', { error: response.error });
    });
    return p;
  };

  return createCodeAgent({
    ...runOptions,
    provider: PROVIDER,
    capabilities,
    async run(ctx) {
      const { request } = ctx;
      if (request.attachments?.length) throw new UnsupportedError(PROVIDER, 'attachments');
      // Stopped before it started: no process to start, nothing to report.
      if (ctx.signal.aborted) return {};
      const defaults = { model, permissionMode, extraArgs, partialMessages };
      const runCwd = request.cwd ?? cwd;
      const runEnv = { ...env, ...request.env };
      const shape = JSON.stringify([bin, sessionArgs(request, defaults), runCwd ?? null, runEnv]);
      let proc = request.sessionId !== undefined ? pool?.take(request.sessionId, shape) : undefined;
      for (;;) {
        const warm = proc !== undefined;
        proc ??= await start(buildClaudeArgs(request, defaults), runCwd, runEnv);
        const turn = await playTurn(ctx, proc, { sigintGraceMs, exitGraceMs });
        // A warm process that died before this turn said anything: the session goes on in a cold `--resume`.
        if (warm && turn.silentDeath && !ctx.signal.aborted) {
          logger.info('claude-code: warm process gone, resuming cold', { sessionId: request.sessionId });
          retire(proc);
          proc = undefined;
          continue;
        }
        const sessionId = turn.outcome.sessionId;
        if (turn.reusable && pool && sessionId !== undefined) pool.put(sessionId, shape, proc);
        // Not kept: the run ends once its process has (stdin closed first, so the CLI finishes its writes).
        else await proc.end(!turn.reusable);
        return turn.outcome;
      }
    },
    async close() {
      for (const p of pool?.close() ?? []) retire(p);
      for (const p of processes) retire(p);
      await Promise.all([...ending]);
    },
  });
}
