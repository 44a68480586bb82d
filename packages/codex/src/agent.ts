import {
  createCodeAgent,
  type AgentCapabilities,
  type AgentEventInit,
  type CodeAgent,
  type CliAgentOptions,
  type PermissionMode,
  type ProcessExit,
  type RunContext,
  type RunOutcome,
  type RunningProcess,
  type SessionStore,
} from '@forge/core';
import {
  assertSupported,
  buildCodexArgs,
  CODEX_SANDBOXES,
  DEFAULT_ENV_KEY,
  providerConfigArgs,
  tomlValue,
  PROVIDER,
  type CodexConfigValue,
  type CodexModelProvider,
  type CodexSandbox,
} from './args.js';
import { codexDeclaredCapabilities } from './declared-capabilities.js';
import { exitError } from './exit-error.js';
import { CodexJsonlParser } from './jsonl.js';
import { CodexEventMapper } from './mapper.js';
import {
  cliAgentOptions,
  exitWithin,
  probedAvailability,
  readLines,
  settledWithin,
  stopProcess,
  TailBuffer,
  type StopGrace,
} from '@forge/core/internal';
import { AppServerPool, type AppServerIdleOptions, type PrewarmOptions } from './app-server/app-server-pool.js';
import { appServerShape, runOnAppServer, startAppServer, threadParamsFor } from './app-server/app-server-run.js';
import { startSpare } from './app-server/spare-thread.js';
import { codexSessionFiles } from './session-files.js';
import { probeCodexVersion, type VersionProbe } from './version.js';

export { PROVIDER, exitError };

/**
 * Host variables the CLI gets besides the runner's minimal set: its key and `CODEX_HOME` (and the
 * rest of its `CODEX_*` settings). A custom provider's `envKey` is added to these.
 */
export const CODEX_PASS_ENV: readonly string[] = Object.freeze(['OPENAI_API_KEY', 'CODEX_*']);

/** The shared CLI options (`CliAgentOptions`, documented in core) and what only Codex has. */
export interface CodexOptions extends CliAgentOptions {
  /** Model when the request names none. */
  model?: string;
  /** A Responses-API model provider (base URL + key). Default: whatever the CLI's own config says. */
  provider?: CodexModelProvider;
  /**
   * Sandbox for model-generated commands under `permissionMode: 'default'` / `acceptEdits`. Default: `workspace-write`
   * on the app server, the CLI's own (read-only) with `exec`. See `permissionMode`.
   */
  sandbox?: CodexSandbox;
  /** Permission mode when the request names none; mapped onto the sandbox (see README). */
  permissionMode?: PermissionMode;
  /** Extra `-c key=value` settings for every run; values are written as TOML. */
  config?: Record<string, CodexConfigValue>;
  /** Pass `--skip-git-repo-check` (the CLI refuses to run outside a git repository without it). Default true. */
  skipGitRepoCheck?: boolean;
  /** Run with `--ephemeral`: no session is stored, so runs cannot be resumed. Default false. */
  ephemeral?: boolean;
  /**
   * How runs reach Codex. `exec`: one `codex exec --json` process per run (no approvals, no questions, whole
   * messages). `app-server`: one long-lived `codex app-server` (JSON-RPC over stdio) per agent, threads in it;
   * it asks before commands and edits (`permission.requested`), asks questions, streams text, and a follow-up
   * turn starts no process. Default `app-server`; `exec` is for where a long-lived process cannot run.
   */
  transport?: CodexTransport;
  /** The app server's idle policy (transport `app-server`). */
  appServer?: AppServerIdleOptions;
  /**
   * Start the app server (transport `app-server`) with the agent's default argv, env and cwd when the agent is
   * made, initialized and ready for `thread/start`, so a new thread's first turn does not wait for the process
   * to start; it then waits `idleMs` (default 5 min) between runs. A request with its own `env` gets a server of
   * its own, started cold as without it. Off by default.
   */
  prewarm?: PrewarmOptions | false;
  /**
   * Keeps each thread's rollout file here after every turn, and puts it back before a resume on a machine
   * (or CODEX_HOME) that lacks it, so a conversation outlives the machine that ran it. Not with `ephemeral`.
   */
  sessionStore?: SessionStore;
}

export type CodexTransport = 'app-server' | 'exec';
export const CODEX_TRANSPORTS: readonly CodexTransport[] = ['app-server', 'exec'];

/** The OpenAI Codex CLI as a CodeAgent: `codex app-server` (the default), or `codex exec --json` with `transport: 'exec'`. */
export function codex(options: CodexOptions = {}): CodeAgent {
  const { cli, rest } = cliAgentOptions(options, { bin: 'codex', passEnv: CODEX_PASS_ENV });
  const {
    model,
    provider,
    sandbox,
    permissionMode,
    config,
    skipGitRepoCheck,
    ephemeral,
    transport = 'app-server',
    appServer = {},
    prewarm,
    sessionStore,
    ...runOptions
  } = rest;
  if (sandbox !== undefined && !CODEX_SANDBOXES.includes(sandbox))
    throw new RangeError(`sandbox must be one of ${CODEX_SANDBOXES.join(', ')}, got ${String(sandbox)}`);
  if (provider && !/^https?:\/\//.test(provider.baseUrl))
    throw new RangeError(`provider.baseUrl must be an http(s) URL, got ${provider.baseUrl}`);
  const baseEnv: Record<string, string> = {
    ...cli.env,
    ...(provider?.apiKey !== undefined ? { [provider.envKey ?? DEFAULT_ENV_KEY]: provider.apiKey } : {}),
  };
  const passEnv =
    provider && provider.apiKey === undefined ? [...cli.passEnv, provider.envKey ?? DEFAULT_ENV_KEY] : [...cli.passEnv];
  if (!CODEX_TRANSPORTS.includes(transport))
    throw new RangeError(`transport must be one of ${CODEX_TRANSPORTS.join(', ')}, got ${String(transport)}`);
  let version: Promise<VersionProbe> | undefined;
  const pool = transport === 'app-server' ? new AppServerPool(appServer, cli.grace) : undefined;
  const appServerArgs = [
    'app-server',
    ...(provider ? providerConfigArgs(provider) : []),
    ...Object.entries(config ?? {}).flatMap(([key, value]) => ['-c', `${key}=${tomlValue(value)}`]),
    ...(cli.extraArgs ?? []),
  ];

  if (prewarm !== undefined && prewarm !== false) {
    if (!pool) throw new RangeError("prewarm needs transport 'app-server'");
    const cfg = { cli, args: appServerArgs, passEnv };
    const logger = runOptions.logger;
    // A spare thread with the agent's defaults too: a new session's first turn then needs no thread/start.
    const spareParams = threadParamsFor({}, { cli, model, sandbox, permissionMode });
    pool.prewarm(appServerShape(cfg, baseEnv), prewarm, async () => {
      const server = await startAppServer(cfg, baseEnv, (text) => logger?.warn('codex: app server output', { text }));
      startSpare(server, spareParams, ephemeral);
      return server;
    });
  }

  const capabilities = async (): Promise<AgentCapabilities> => {
    version ??= probeCodexVersion(cli.runner, cli.bin, {
      env: baseEnv,
      passEnv,
      cwd: cli.cwd,
      timeoutMs: cli.versionTimeoutMs,
    });
    const probe = await version;
    return {
      ...codexDeclaredCapabilities({ ephemeral, transport }),
      ...probedAvailability(probe),
      extra: {
        bin: cli.bin,
        transport,
        prewarm: pool?.prewarmed ?? false,
        sandbox: sandbox ?? (transport === 'app-server' ? 'workspace-write' : 'read-only'),
        sandboxes: [...CODEX_SANDBOXES],
        permissionModes: ['default', 'acceptEdits', 'bypassPermissions', 'plan'],
        ...(provider ? { modelProvider: { id: provider.id ?? 'forge', baseUrl: provider.baseUrl } } : {}),
        ...(probe.error ? { versionError: probe.error } : {}),
      },
    };
  };

  async function run(ctx: RunContext): Promise<RunOutcome> {
    if (pool)
      return runOnAppServer(ctx, {
        cli,
        pool,
        env: baseEnv,
        passEnv,
        args: appServerArgs,
        model,
        sandbox,
        permissionMode,
        ephemeral,
      });
    const { request } = ctx;
    assertSupported(request);
    // The per-agent defaults are CodexArgsDefaults' fields of the options as given.
    const args = buildCodexArgs(request, { ...rest, extraArgs: cli.extraArgs });
    const runCwd = request.cwd ?? cli.cwd;
    const proc = await cli.runner.spawn(cli.bin, args, {
      ...(runCwd !== undefined ? { cwd: runCwd } : {}),
      env: { ...baseEnv, ...request.env },
      passEnv,
      input: request.prompt,
    });
    // The CLI prints nothing after a signal: the run's own stop reason makes the result.
    const { grace, exitGraceMs } = cli;
    const onAbort = () => void stopProcess(proc, grace);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });

    const mapper = new CodexEventMapper();
    const stderr = new TailBuffer(cli.stderrTailBytes);
    let lingering: ReturnType<typeof setTimeout> | undefined;
    const onTurnEnd = () => {
      lingering ??= setTimeout(() => void stopProcess(proc, grace, 'SIGTERM'), exitGraceMs);
    };
    try {
      const stderrRead = readLines(
        proc.stderr,
        (text) => ctx.emit({ type: 'log', text, level: 'warn', stream: 'stderr' }),
        (chunk) => stderr.push(chunk),
      ).catch(() => undefined);
      const exit = await readStdout(proc, ctx, mapper, cli.maxLineBytes, onTurnEnd).then(() =>
        awaitExit(proc, exitGraceMs, grace),
      );
      // stderr normally ends with the process; a grandchild holding it open must not hold the run.
      await settledWithin(stderrRead, 1_000);
      const outcome = mapper.outcome();
      if (outcome) return outcome;
      const failed: RunOutcome = { status: 'failed', error: exitError(exit, stderr.text()) };
      if (mapper.sessionId) failed.sessionId = mapper.sessionId;
      if (mapper.lastMessage !== undefined) failed.text = mapper.lastMessage;
      return failed;
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
    declared: codexDeclaredCapabilities({ ephemeral, transport }),
    capabilities,
    run,
    ...(pool ? { close: () => pool.close() } : {}),
    ...(sessionStore && !ephemeral
      ? { sessionStore, sessionFiles: codexSessionFiles(cli.runner, baseEnv, passEnv) }
      : {}),
  });
}

async function readStdout(
  proc: RunningProcess,
  ctx: RunContext,
  mapper: CodexEventMapper,
  maxLineBytes: number | undefined,
  onTurnEnd: () => void,
): Promise<void> {
  let behind = false;
  const emit = (event: AgentEventInit) => {
    if (!ctx.emit(event)) behind = true;
  };
  const parser = new CodexJsonlParser(
    (item) => mapper.mapItem(item, emit),
    maxLineBytes === undefined ? {} : { maxLineBytes },
  );
  for await (const chunk of proc.stdout) {
    parser.push(chunk);
    if (mapper.terminal) onTurnEnd();
    // Waiting leaves the rest in the pipe: the CLI slows down instead of us buffering it.
    if (behind) {
      behind = false;
      await ctx.drained();
    }
  }
  parser.end();
}

/** After stdout has ended the CLI should exit on its own; if it lingers, it is stopped. */
async function awaitExit(proc: RunningProcess, exitGraceMs: number, grace: StopGrace): Promise<ProcessExit> {
  return (await exitWithin(proc, exitGraceMs)) ?? stopProcess(proc, grace, 'SIGTERM');
}
