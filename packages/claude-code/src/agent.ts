import {
  createCodeAgent,
  validateRequest,
  type AgentRequest,
  type AgentRequestInput,
  silentLogger,
  type AgentCapabilities,
  type CodeAgent,
  type CliAgentOptions,
  type PermissionMode,
  type ProcessExit,
  type SessionStore,
} from '@forge/core';
import { cliAgentOptions, probedAvailability } from '@forge/core/internal';
import { buildClaudeArgs, sessionArgs } from './args.js';
import { ClaudeProcess } from './claude-process.js';
import { claudeCodeDeclaredCapabilities } from './declared-capabilities.js';
import { nativeBudgetOutcome } from './native-budget.js';
import { PrewarmPool, type PrewarmOptions } from './prewarm-pool.js';
import { promptContent } from './prompt-content.js';
import { SpareProcesses, type Spare } from './spare-processes.js';
import { SteerRelay } from './steer-relay.js';
import { playTurn } from './turn.js';
import { claudeSessionFiles } from './session-files.js';
import { probeClaudeVersion, type VersionProbe } from './version.js';
import { WarmPool, type WarmSessionsOptions } from './warm-pool.js';

export const PROVIDER = 'claude-code';

/** What the CLI reads from its environment to reach its model and behave: key, base URL, switches. */
export const CLAUDE_PASS_ENV: readonly string[] = Object.freeze(['ANTHROPIC_*', 'CLAUDE_*', 'DISABLE_*']);

/** The shared CLI options (`CliAgentOptions`, documented in core) and what only Claude Code has. */
export interface ClaudeCodeOptions extends CliAgentOptions {
  /** Model when the request names none. */
  model?: string;
  /** Permission mode when the request names none. */
  permissionMode?: PermissionMode;
  /** Ask for `stream_event` lines, so text arrives as `text.delta`. Default true. */
  partialMessages?: boolean;
  /**
   * Keep a session's CLI process up between turns, so `execute({ sessionId })` writes the next message into it
   * instead of starting `--resume`. Default `{ idleMs: 60_000, max: 8 }`; `false` ends the process after each run.
   */
  warmSessions?: WarmSessionsOptions | false;
  /**
   * Keeps each session's file (`projects/<cwd slug>/<id>.jsonl` under the CLI's home) here after every turn, and
   * puts it back before a resume on a machine (or HOME) that lacks it: a conversation outlives its machine.
   */
  sessionStore?: SessionStore;
  /**
   * Keep `count` CLI processes started with the agent's default argv, env and cwd, so a new session's first turn
   * is written into a running process instead of waiting for the CLI to start. A request whose options change
   * the process (model, tools, permission mode, system prompt, MCP servers, cwd, env…) starts cold as without
   * it. Off by default; `{}` is `{ count: 1, idleMs: 300_000 }`.
   */
  prewarm?: PrewarmOptions | false;
}

/** What `claudeCode()` adds to a CodeAgent: spares for the new sessions a host expects, by their options. */
export interface SpareProcessAgent {
  /**
   * Starts one CLI process shaped as a new session of `request` would be (its options and cwd; the prompt, a
   * sessionId or a fork do not count) — unless that shape's spare is already there — and keeps it until such a
   * session takes it, `idleMs` pass (default 300,000), `release()`, or `close()`. One spare per shape.
   */
  prewarm(request: Omit<AgentRequestInput, 'prompt'> & { prompt?: string }, options?: { idleMs?: number }): Spare;
}

/** The Claude Code CLI (`claude -p`, stream-json in and out, with the control protocol) as a CodeAgent. */
export function claudeCode(options: ClaudeCodeOptions = {}): CodeAgent & SpareProcessAgent {
  const {
    cli,
    rest: { model, permissionMode, partialMessages = true, warmSessions = {}, prewarm, sessionStore, ...runOptions },
  } = cliAgentOptions(options, { bin: 'claude', passEnv: CLAUDE_PASS_ENV, sigintGraceMs: 3_000 });
  const logger = runOptions.logger ?? silentLogger;
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
    version ??= probeClaudeVersion(cli.runner, cli.bin, { ...cli, timeoutMs: cli.versionTimeoutMs });
    const probe = await version;
    return {
      ...claudeCodeDeclaredCapabilities({ partialMessages }),
      // Availability (issue 16): false only when the CLI could not be started at all.
      ...probedAvailability(probe),
      extra: {
        bin: cli.bin,
        permissionModes: ['default', 'acceptEdits', 'bypassPermissions', 'plan'],
        warmSessions: pool !== undefined,
        prewarm: prewarmed?.count ?? 0,
        ...(probe.error ? { versionError: probe.error } : {}),
      },
    };
  };

  const start = async (args: string[], runCwd: string | undefined, runEnv: Record<string, string>) => {
    // No `input`: stdin stays open for control responses and later turns.
    const proc = await cli.runner.spawn(cli.bin, args, {
      ...(runCwd !== undefined ? { cwd: runCwd } : {}),
      env: runEnv,
      passEnv: cli.passEnv,
    });
    const p = new ClaudeProcess(proc, { ...cli, logger });
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

  const defaults = { model, permissionMode, extraArgs: cli.extraArgs, partialMessages };
  /** Everything that goes into a request's process but `--resume`: its flags, cwd and env, and their key. */
  const processOf = (request: AgentRequest) => {
    const cwd = request.cwd ?? cli.cwd;
    const env = {
      // In stream-json mode the CLI connects MCP servers in the background, and a first turn may start before
      // their tools are there; blocking makes the request's servers ready (or failed) before the first turn.
      ...(request.mcpServers?.length ? { MCP_CONNECTION_NONBLOCKING: 'false' } : {}),
      ...cli.env,
      ...request.env,
    };
    return { cwd, env, shape: JSON.stringify([cli.bin, sessionArgs(request, defaults), cwd ?? null, env]) };
  };

  let prewarmed: PrewarmPool | undefined;
  if (prewarm !== undefined && prewarm !== false) {
    // The request a caller sends with nothing but a prompt, after core's policy defaults.
    const plain: AgentRequest = { prompt: '', ...(runOptions.budget ? { budget: runOptions.budget } : {}) };
    const { cwd, env, shape } = processOf(plain);
    prewarmed = new PrewarmPool(
      prewarm,
      shape,
      () => start(buildClaudeArgs(plain, defaults), cwd, env),
      retire,
      logger,
    );
    prewarmed.fill();
  }

  const spares = new SpareProcesses(retire, logger);

  const agent = createCodeAgent({
    ...runOptions,
    provider: PROVIDER,
    declared: claudeCodeDeclaredCapabilities({ partialMessages }),
    capabilities,
    ...(sessionStore
      ? { sessionStore, sessionFiles: claudeSessionFiles(cli.runner, cli.env ?? {}, cli.passEnv, cli.cwd) }
      : {}),
    async run(ctx) {
      const { request } = ctx;
      // Installed before the first await, so a steer right after `execute` waits for the turn, not refused.
      const steering = new SteerRelay(ctx.runId, ctx.signal);
      ctx.onSteer(steering.steer);
      // Stopped before it started: no process to start, nothing to report.
      if (ctx.signal.aborted) return {};
      const { cwd: runCwd, env: runEnv, shape } = processOf(request);
      // Attachments the API cannot take are refused here, before any process starts.
      const content = promptContent(PROVIDER, request.prompt, request.attachments);
      // A fork starts a process of its own (`--resume … --fork-session`); the original's warm process stays.
      // A new session takes a prewarmed process when it asks for nothing the default process lacks.
      let proc =
        request.sessionId === undefined
          ? (prewarmed?.take(shape) ?? spares.take(shape))
          : !request.fork
            ? pool?.take(request.sessionId, shape)
            : undefined;
      // The CLI's cost cap counts what its process spent: a capped run's process serves that run alone.
      const keep = request.budget?.maxCostUsd === undefined;
      for (;;) {
        const warm = proc !== undefined;
        proc ??= await start(buildClaudeArgs(request, defaults), runCwd, runEnv);
        const turn = await playTurn(ctx, proc, {
          steering,
          content,
          cwd: runCwd,
          sigintGraceMs: cli.grace.sigintGraceMs,
          exitGraceMs: cli.exitGraceMs,
        });
        // A warm process that died before this turn said anything: the session goes on in a cold `--resume`.
        if (warm && turn.silentDeath && !ctx.signal.aborted) {
          logger.info('claude-code: warm process gone, resuming cold', { sessionId: request.sessionId });
          retire(proc);
          proc = undefined;
          continue;
        }
        // The spare is replaced once the turn is over, not beside it.
        if (request.sessionId === undefined && shape === prewarmed?.shape) prewarmed.fill();
        const sessionId = turn.outcome.sessionId;
        if (turn.reusable && keep && pool && sessionId !== undefined) pool.put(sessionId, shape, proc);
        // Not kept: the run ends once its process has (stdin closed first, so the CLI finishes its writes).
        else await proc.end(!turn.reusable);
        return nativeBudgetOutcome(turn.outcome, request);
      }
    },
    async close() {
      await spares.close();
      await prewarmed?.close();
      for (const p of pool?.close() ?? []) retire(p);
      for (const p of processes) retire(p);
      await Promise.all([...ending]);
    },
  });

  const prewarmFor: SpareProcessAgent['prewarm'] = (input, spareOptions = {}) => {
    const { sessionId: _s, fork: _f, ...rest } = input;
    // As `execute` would see it: validated, and the agent's budget when the request has none.
    const request = validateRequest({
      ...(runOptions.budget ? { budget: runOptions.budget } : {}),
      ...rest,
      prompt: rest.prompt ?? 'spare',
    });
    const idleMs = spareOptions.idleMs ?? 300_000;
    if (!(idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${idleMs}`);
    const { cwd, env, shape } = processOf(request);
    return spares.ensure(shape, () => start(buildClaudeArgs(request, defaults), cwd, env), idleMs);
  };
  return Object.assign(agent, { prewarm: prewarmFor });
}
