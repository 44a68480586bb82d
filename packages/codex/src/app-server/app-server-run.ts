import type { AgentEventInit, AgentRequest, PermissionMode, RunContext, RunOutcome } from '@forge/core';
import type { ResolvedCliAgentOptions } from '@forge/core/internal';
import type { CodexSandbox } from '../args.js';
import { CodexErrorCode } from '../error-codes.js';
import { exitError } from '../exit-error.js';
import type { JsonValue } from '../gen/serde_json/JsonValue.js';
import type { TurnStartResponse } from '../gen/v2/TurnStartResponse.js';
import type { TurnSteerParams } from '../gen/v2/TurnSteerParams.js';
import type { TurnSteerResponse } from '../gen/v2/TurnSteerResponse.js';
import { AppServerExitedError, AppServerProcess } from './app-server-process.js';
import type { AppServerPool } from './app-server-pool.js';
import { appServerPolicy, sandboxPolicy } from './policy.js';
import { ServerRequests } from './server-requests.js';
import { mcpConfig, turnInput } from './thread-config.js';
import { openThread, type ThreadParams } from './thread-open.js';
import { TurnMapper } from './turn-mapper.js';

export interface AppServerRunConfig {
  cli: ResolvedCliAgentOptions;
  pool: AppServerPool;
  env: Record<string, string>;
  passEnv: string[];
  /** `app-server` and its `-c` settings. */
  args: string[];
  model?: string | undefined;
  sandbox?: CodexSandbox | undefined;
  permissionMode?: PermissionMode | undefined;
  ephemeral?: boolean | undefined;
}

/** What a request can change about the server process itself (not its threads): argv, env, cwd. */
export function appServerShape(cfg: Pick<AppServerRunConfig, 'args' | 'cli'>, env: Record<string, string>): string {
  return JSON.stringify([cfg.args, env, cfg.cli.cwd ?? null]);
}

/** Starts and initializes one server; `log` gets what it prints outside the protocol. */
export function startAppServer(
  cfg: Pick<AppServerRunConfig, 'args' | 'cli' | 'passEnv'>,
  env: Record<string, string>,
  log: (text: string) => void,
): Promise<AppServerProcess> {
  const { cli } = cfg;
  return AppServerProcess.start({
    runner: cli.runner,
    bin: cli.bin,
    args: cfg.args,
    spawn: { ...(cli.cwd !== undefined ? { cwd: cli.cwd } : {}), env, passEnv: cfg.passEnv },
    maxLineBytes: cli.maxLineBytes,
    stderrTailBytes: cli.stderrTailBytes,
    log,
  });
}

/** A new thread's settings for `request` (with no fields set: the agent's defaults, what a spare thread gets). */
export function threadParamsFor(
  request: Pick<AgentRequest, 'cwd' | 'permissionMode' | 'model' | 'systemPrompt' | 'mcpServers'>,
  cfg: Pick<AppServerRunConfig, 'cli' | 'permissionMode' | 'sandbox' | 'model'>,
): ThreadParams {
  const cwd = request.cwd ?? cfg.cli.cwd;
  const policy = appServerPolicy(request.permissionMode ?? cfg.permissionMode, cfg.sandbox);
  const model = request.model ?? cfg.model;
  return {
    ...(cwd !== undefined ? { cwd } : {}),
    approvalPolicy: policy.approvalPolicy,
    sandbox: policy.sandbox,
    ...(model !== undefined ? { model } : {}),
    ...(request.systemPrompt ? { developerInstructions: request.systemPrompt } : {}),
    ...(request.mcpServers?.length ? { config: mcpConfig(request.mcpServers) } : {}),
  };
}

/** One run on the app server: a thread (started, resumed, or already loaded) and one turn on it. */
export async function runOnAppServer(ctx: RunContext, cfg: AppServerRunConfig): Promise<RunOutcome> {
  const { request } = ctx;
  const { cli } = cfg;
  const env = { ...cfg.env, ...request.env };
  const shape = appServerShape(cfg, env);
  const log = (text: string) => ctx.emit({ type: 'log', text, level: 'warn', stream: 'stderr' });
  let server: AppServerProcess;
  try {
    server = await cfg.pool.acquire(shape, () => startAppServer(cfg, env, log));
  } catch (error) {
    if (error instanceof AppServerExitedError) return { status: 'failed', error: exitError(error.exit, error.stderr) };
    throw error;
  }
  const cwd = request.cwd ?? cli.cwd;
  const mode = request.permissionMode ?? cfg.permissionMode;
  const policy = appServerPolicy(mode, cfg.sandbox);
  const model = request.model ?? cfg.model;
  const mapper = new TurnMapper(undefined, cwd);
  const emit = (e: AgentEventInit) => void ctx.emit(e);
  let unlisten: (() => void) | undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const turnStarted = deferred<string>();
  // Nobody may be waiting; a steer that is gets "no turn" instead of waiting for ever.
  turnStarted.promise.catch(() => undefined);
  try {
    const threadParams = threadParamsFor(request, cfg);
    const opened = await openThread(server, request, threadParams, cfg.ephemeral);
    if ('failed' in opened) return opened.failed;
    const { threadId } = opened;
    ctx.emit({
      type: 'session.started',
      sessionId: threadId,
      ...(model !== undefined ? { model } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
      permissionMode: mode ?? 'default',
    });

    const requests = new ServerRequests(server.rpc, mapper, policy, cwd, emit);
    let turnEnded!: () => void;
    const ended = new Promise<void>((r) => (turnEnded = r));
    let closed = false;
    unlisten = server.listen(threadId, {
      notification(method, params) {
        if (!mapper.mine(params)) return;
        mapper.map(method, params, emit);
        if (method === 'turn/completed') turnEnded();
      },
      request: (rpcId, method, params) => requests.handle(rpcId, method, params),
      closed() {
        closed = true;
        turnEnded();
      },
    });
    ctx.onRespond((permissionId, decision) => requests.respond(permissionId, decision));
    ctx.onAnswer((questionId, answers) => requests.answer(questionId, answers));
    // A steer before `turn/start` has answered waits for the turn's id (`turn/steer` names the turn it adds to).
    ctx.onSteer(async (text) => {
      const id = await turnStarted.promise;
      if (mapper.turn) throw new Error('The turn has ended: nothing to steer');
      await server.rpc.request<TurnSteerResponse>('turn/steer', {
        threadId,
        expectedTurnId: id,
        input: [{ type: 'text', text, text_elements: [] }],
      } satisfies TurnSteerParams);
    });

    if (ctx.signal.aborted) return { sessionId: threadId };
    const turn = await server.rpc.request<TurnStartResponse>('turn/start', {
      threadId,
      input: turnInput(request, cwd),
      approvalPolicy: policy.approvalPolicy,
      sandboxPolicy: sandboxPolicy(policy.sandbox),
      ...(cwd !== undefined ? { cwd } : {}),
      ...(model !== undefined ? { model } : {}),
      ...(request.effort !== undefined ? { effort: request.effort } : {}),
      ...(request.outputSchema !== undefined ? { outputSchema: request.outputSchema as JsonValue } : {}),
      // Codex's Plan mode: read-only, and the model may ask the user (`request_user_input` works only here).
      ...(mode === 'plan' && model !== undefined
        ? {
            collaborationMode: {
              mode: 'plan',
              settings: { model, reasoning_effort: request.effort ?? null, developer_instructions: null },
            },
          }
        : {}),
    });
    const turnId = turn.turn.id;
    mapper.setTurnId(turnId);
    turnStarted.resolve(turnId);
    // Cancel and timeout interrupt the turn; the thread stays for the next run. Signals only if it does not end.
    onAbort = () => {
      void server.rpc.request('turn/interrupt', { threadId, turnId }).catch(() => undefined);
      killTimer ??= setTimeout(() => void server.stop(cli.grace), cli.grace.sigintGraceMs);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    await ended;
    // An interrupted turn leaves its unified-exec commands running in the thread's background terminals.
    if (mapper.turn?.status === 'interrupted')
      await server.rpc.request('thread/backgroundTerminals/clean', { threadId }).catch(() => undefined);
    const outcome = mapper.outcome(threadId);
    if (outcome) {
      if (request.outputSchema !== undefined && outcome.status === 'completed')
        structuredAnswer(outcome, (text) => ctx.emit({ type: 'log', text, level: 'warn' }));
      return outcome;
    }
    const exit = closed ? await server.proc.exited : undefined;
    const said = server.stderr.text();
    const how = exit
      ? exit.signal
        ? `was killed by ${exit.signal}`
        : `exited with code ${String(exit.code)}`
      : 'stopped';
    const out = failed(
      CodexErrorCode.PROCESS_EXITED,
      `The Codex app server ${how} before the turn ended${said ? `: ${said}` : ''}`,
      threadId,
    );
    if (mapper.lastMessage !== undefined) out.text = mapper.lastMessage;
    return out;
  } finally {
    turnStarted.reject(new Error('The run ended before its turn started: nothing to steer'));
    clearTimeout(killTimer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    unlisten?.();
    cfg.pool.release(shape, server);
  }
}

function failed(code: string, message: string, sessionId?: string): RunOutcome {
  const out: RunOutcome = { status: 'failed', error: { code, message, retryable: false } };
  if (sessionId !== undefined) out.sessionId = sessionId;
  return out;
}

/**
 * With an `outputSchema` Codex constrains the final message to it (the Responses API's JSON-schema format): its text
 * parsed is the run's `output`. Core checks it against the schema; text that is not JSON leaves `output` unset.
 */
function structuredAnswer(outcome: RunOutcome, log: (text: string) => void): void {
  if (outcome.text === undefined) return;
  try {
    outcome.output = JSON.parse(outcome.text);
  } catch {
    log('codex: the final message of a turn with an outputSchema is not JSON');
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
