import {
  createCodeAgent,
  defaultCapabilities,
  localProcessRunner,
  UnsupportedError,
  type AgentCapabilities,
  type AgentEventInit,
  type CodeAgent,
  type PermissionMode,
  type ProcessExit,
  type ProcessRunner,
  type RunContext,
  type RunOptions,
  type RunOutcome,
  type RunningProcess,
} from '@forge/core';
import { buildClaudeArgs } from './args.js';
import { ClaudeEventMapper, resultOutcome } from './mapper.js';
import { exitWithin, stopProcess, TailBuffer } from './process-control.js';
import { StreamJsonParser } from './stream-json.js';
import { probeClaudeVersion, type VersionProbe } from './version.js';

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
  /** After SIGINT, how long before SIGTERM. Default 3,000 ms. */
  sigintGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. Default 2,000 ms. */
  sigtermGraceMs?: number;
  /** How long the CLI may linger after its output ends before it is stopped. Default 5,000 ms. */
  exitGraceMs?: number;
  /** Cap on one stdout line; longer lines become `error` events. Default 16 MiB. */
  maxLineBytes?: number;
  /** How much of stderr is kept for the error of a run that ends without a result. Default 4 KiB. */
  stderrTailBytes?: number;
  /** Ask for `stream_event` lines, so text arrives as `text.delta`. Default true. */
  partialMessages?: boolean;
  /** Limit on `<bin> --version` for capabilities(). Default 10,000 ms. */
  versionTimeoutMs?: number;
}

/** The Claude Code CLI (`claude -p --output-format stream-json`) as a CodeAgent. */
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
    ...runOptions
  } = options;
  // Fail at construction, not on the first run.
  if (maxLineBytes !== undefined) new StreamJsonParser(() => {}, { maxLineBytes });
  let version: Promise<VersionProbe> | undefined;

  const capabilities = async (): Promise<AgentCapabilities> => {
    version ??= probeClaudeVersion(runner, bin, { env, passEnv, cwd, timeoutMs: versionTimeoutMs });
    const probe = await version;
    return defaultCapabilities({
      resume: true,
      cancel: true,
      // The CLI in -p mode has no channel to ask for a permission; tools are allowed up front.
      permissionReplies: false,
      textDeltas: partialMessages,
      reasoning: true,
      attachments: false,
      images: false,
      systemPrompt: true,
      toolFilter: true,
      maxTurns: true,
      // The CLI takes aliases and full names but does not list them.
      models: [],
      ...(probe.version ? { version: probe.version } : {}),
      // Availability (issue 16): false only when the CLI could not be started at all.
      available: !probe.spawnFailed,
      ...(probe.spawnFailed && probe.error ? { unavailableReason: probe.error } : {}),
      extra: {
        bin,
        permissionModes: ['default', 'acceptEdits', 'bypassPermissions', 'plan'],
        ...(probe.error ? { versionError: probe.error } : {}),
      },
    });
  };

  async function run(ctx: RunContext): Promise<RunOutcome> {
    const { request } = ctx;
    if (request.attachments?.length) throw new UnsupportedError(PROVIDER, 'attachments');
    const args = buildClaudeArgs(request, { model, permissionMode, extraArgs, partialMessages });
    const runCwd = request.cwd ?? cwd;
    const proc = await runner.spawn(bin, args, {
      ...(runCwd !== undefined ? { cwd: runCwd } : {}),
      env: { ...env, ...request.env },
      passEnv,
      input: request.prompt,
    });
    const grace = { sigintGraceMs, sigtermGraceMs };
    let _stopping: Promise<ProcessExit> | undefined;
    const onAbort = () => {
      _stopping ??= stopProcess(proc, grace);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });

    const mapper = new ClaudeEventMapper();
    const stderr = new TailBuffer(stderrTailBytes);
    // The result is the CLI's last word: one that lingers after it (and keeps stdout open) is stopped.
    let lingering: ReturnType<typeof setTimeout> | undefined;
    const onResult = () => {
      lingering ??= setTimeout(() => void stopProcess(proc, grace, 'SIGTERM'), exitGraceMs);
    };
    try {
      const stderrRead = readStderr(proc, ctx, stderr).catch(() => undefined);
      const exit = await readStdout(proc, ctx, mapper, maxLineBytes, onResult).then(() =>
        awaitExit(proc, exitGraceMs, grace),
      );
      // stderr normally ends with the process; a grandchild holding it open must not hold the run.
      await settledWithin(stderrRead, 1_000);
      if (mapper.result) return resultOutcome(mapper.result);
      const outcome: RunOutcome = { status: 'failed', error: exitError(exit, stderr.text()) };
      if (mapper.sessionId) outcome.sessionId = mapper.sessionId;
      return outcome;
    } finally {
      clearTimeout(lingering);
      ctx.signal.removeEventListener('abort', onAbort);
      // Whatever happened above, the CLI does not outlive its run.
      if (!(await exitWithin(proc, 0))) await stopProcess(proc, grace, 'SIGKILL');
    }
  }

  return createCodeAgent({
    ...runOptions,
    provider: PROVIDER,
    capabilities,
    run,
  });
}

async function readStdout(
  proc: RunningProcess,
  ctx: RunContext,
  mapper: ClaudeEventMapper,
  maxLineBytes: number | undefined,
  onResult: () => void,
): Promise<void> {
  let behind = false;
  const emit = (event: AgentEventInit) => {
    if (!ctx.emit(event)) behind = true;
  };
  const parser = new StreamJsonParser(
    (item) => mapper.mapItem(item, emit),
    maxLineBytes === undefined ? {} : { maxLineBytes },
  );
  for await (const chunk of proc.stdout) {
    parser.push(chunk);
    if (mapper.result) onResult();
    // Waiting here leaves the rest in the pipe: the CLI slows down instead of us buffering it.
    // A stopping run reads on regardless, to catch the final result and its session id.
    if (behind) {
      behind = false;
      if (!ctx.signal.aborted) await untilAborted(ctx.drained(), ctx.signal);
    }
  }
  parser.end();
}

async function readStderr(proc: RunningProcess, ctx: RunContext, tail: TailBuffer): Promise<void> {
  const decoder = new TextDecoder();
  let partial = '';
  const emitLines = (text: string, final: boolean) => {
    const lines = (partial + text).split('\n');
    partial = final ? '' : lines.pop()!;
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim()) ctx.emit({ type: 'log', text: line, level: 'warn', stream: 'stderr' });
    }
  };
  for await (const chunk of proc.stderr) {
    tail.push(chunk);
    emitLines(decoder.decode(chunk, { stream: true }), false);
  }
  emitLines(decoder.decode(), true);
}

/** After stdout has ended the CLI should exit on its own; if it lingers, it is stopped. */
async function awaitExit(
  proc: RunningProcess,
  exitGraceMs: number,
  grace: { sigintGraceMs: number; sigtermGraceMs: number },
): Promise<ProcessExit> {
  return (await exitWithin(proc, exitGraceMs)) ?? stopProcess(proc, grace, 'SIGTERM');
}

async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    p.then(done, done);
  });
}

function exitError(exit: ProcessExit, stderrTail: string): { code: string; message: string } {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  return {
    code: 'PROCESS_EXITED',
    message: `Claude Code ${how} without a result${stderrTail ? `: ${stderrTail}` : ''}`,
  };
}
