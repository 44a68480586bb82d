import { relative, isAbsolute } from 'node:path';
import type { AgentEventInit, PermissionDecision, PermissionMode, Question, RunContext, RunOutcome } from '@forge/core';
import type { ResolvedCliAgentOptions } from '@forge/core/internal';
import { assertSupported, type CodexSandbox } from '../args.js';
import { CodexErrorCode } from '../error-codes.js';
import { exitError } from '../exit-error.js';
import type { RequestId } from '../gen/RequestId.js';
import type { ThreadResumeResponse } from '../gen/v2/ThreadResumeResponse.js';
import type { ThreadStartResponse } from '../gen/v2/ThreadStartResponse.js';
import type { TurnStartResponse } from '../gen/v2/TurnStartResponse.js';
import type { ToolRequestUserInputParams } from '../gen/v2/ToolRequestUserInputParams.js';
import type { ToolRequestUserInputResponse } from '../gen/v2/ToolRequestUserInputResponse.js';
import type { FileUpdateChange } from '../gen/v2/FileUpdateChange.js';
import { AppServerExitedError, AppServerProcess } from './app-server-process.js';
import type { AppServerPool } from './app-server-pool.js';
import { JsonRpcError } from './json-rpc-client.js';
import { appServerPolicy, sandboxPolicy } from './policy.js';
import { TurnMapper } from './turn-mapper.js';

/** Tool name of a command approval's `permission.requested`. */
export const APPROVAL_TOOL_COMMAND = 'Bash';
/** Tool name of a file-change approval's `permission.requested`. */
export const APPROVAL_TOOL_EDIT = 'Edit';
/** Tool name of an `item/permissions/requestApproval` (more sandbox access). */
export const APPROVAL_TOOL_PERMISSIONS = 'Permissions';

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

type Params = Record<string, unknown>;
type Pending = { rpcId: RequestId; kind: 'command' | 'file' | 'permissions'; params: Params };
type PendingQuestion = { rpcId: RequestId; ids: string[] };

/** One run on the app server: a thread (started, resumed, or already loaded) and one turn on it. */
export async function runOnAppServer(ctx: RunContext, cfg: AppServerRunConfig): Promise<RunOutcome> {
  const { request } = ctx;
  assertSupported(request);
  const { cli } = cfg;
  const env = { ...cfg.env, ...request.env };
  const shape = JSON.stringify([cfg.args, env, cli.cwd ?? null]);
  const log = (text: string) => ctx.emit({ type: 'log', text, level: 'warn', stream: 'stderr' });
  let server: AppServerProcess;
  try {
    server = await cfg.pool.acquire(shape, () =>
      AppServerProcess.start({
        runner: cli.runner,
        bin: cli.bin,
        args: cfg.args,
        spawn: { ...(cli.cwd !== undefined ? { cwd: cli.cwd } : {}), env, passEnv: cfg.passEnv },
        maxLineBytes: cli.maxLineBytes,
        stderrTailBytes: cli.stderrTailBytes,
        log,
      }),
    );
  } catch (error) {
    if (error instanceof AppServerExitedError) return { status: 'failed', error: exitError(error.exit, error.stderr) };
    throw error;
  }
  const cwd = request.cwd ?? cli.cwd;
  const mode = request.permissionMode ?? cfg.permissionMode;
  const policy = appServerPolicy(mode, cfg.sandbox);
  const model = request.model ?? cfg.model;
  const mapper = new TurnMapper();
  const emit = (e: AgentEventInit) => void ctx.emit(e);
  let unlisten: (() => void) | undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const threadParams = {
      ...(cwd !== undefined ? { cwd } : {}),
      approvalPolicy: policy.approvalPolicy,
      sandbox: policy.sandbox,
      ...(model !== undefined ? { model } : {}),
      ...(request.systemPrompt ? { developerInstructions: request.systemPrompt } : {}),
    };
    let threadId: string;
    if (request.sessionId !== undefined) {
      threadId = request.sessionId;
      if (server.busy(threadId))
        return failed(CodexErrorCode.SESSION_BUSY, `Session ${threadId} is running a turn already`, threadId);
      if (!server.loaded.has(threadId)) {
        try {
          await server.rpc.request<ThreadResumeResponse>('thread/resume', { threadId, ...threadParams });
        } catch (error) {
          if (error instanceof JsonRpcError)
            return failed(CodexErrorCode.SESSION_NOT_FOUND, `Codex could not resume the session: ${error.message}`);
          throw error;
        }
      }
    } else {
      const started = await server.rpc.request<ThreadStartResponse>('thread/start', {
        ...threadParams,
        ...(cfg.ephemeral ? { ephemeral: true } : {}),
      });
      threadId = started.thread.id;
    }
    server.loaded.add(threadId);
    ctx.emit({
      type: 'session.started',
      sessionId: threadId,
      ...(model !== undefined ? { model } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
      permissionMode: mode ?? 'default',
    });

    const permissions = new Map<string, Pending>();
    const questions = new Map<string, PendingQuestion>();
    let turnEnded!: () => void;
    const ended = new Promise<void>((r) => (turnEnded = r));
    let closed = false;
    unlisten = server.listen(threadId, {
      notification(method, params) {
        if (!mapper.mine(params)) return;
        mapper.map(method, params, emit);
        if (method === 'turn/completed') turnEnded();
      },
      request(rpcId, method, params) {
        const key = String(rpcId);
        if (method === 'item/commandExecution/requestApproval') {
          permissions.set(key, { rpcId, kind: 'command', params });
          emit({
            type: 'permission.requested',
            id: key,
            tool: APPROVAL_TOOL_COMMAND,
            input: commandInput(params),
            raw: params,
          });
        } else if (method === 'item/fileChange/requestApproval') {
          const changes = fileChanges(mapper, params);
          if (policy.autoAcceptWorkspaceEdits && !params.grantRoot && changes && inside(changes, cwd)) {
            void server.rpc.respond(rpcId, { decision: 'accept' }).catch(() => undefined);
            return;
          }
          permissions.set(key, { rpcId, kind: 'file', params });
          emit({
            type: 'permission.requested',
            id: key,
            tool: APPROVAL_TOOL_EDIT,
            input: { changes: changes ?? [], reason: params.reason ?? null, grantRoot: params.grantRoot ?? null },
            raw: params,
          });
        } else if (method === 'item/permissions/requestApproval') {
          permissions.set(key, { rpcId, kind: 'permissions', params });
          emit({
            type: 'permission.requested',
            id: key,
            tool: APPROVAL_TOOL_PERMISSIONS,
            input: { permissions: params.permissions, reason: params.reason ?? null },
            raw: params,
          });
        } else if (method === 'item/tool/requestUserInput') {
          const p = params as unknown as ToolRequestUserInputParams;
          questions.set(key, { rpcId, ids: p.questions.map((q) => q.id) });
          emit({ type: 'question.requested', id: key, questions: p.questions.map(toQuestion), raw: params });
        } else void server.rpc.respondError(rpcId, -32601, `forge does not handle ${method}`).catch(() => undefined);
      },
      closed() {
        closed = true;
        turnEnded();
      },
    });
    ctx.onRespond(async (permissionId, decision) => {
      const p = permissions.get(permissionId);
      if (!p) throw new Error(`no pending permission ${permissionId}`);
      permissions.delete(permissionId);
      await server.rpc.respond(p.rpcId, approvalResponse(p, decision));
    });
    ctx.onAnswer(async (questionId, answers) => {
      const q = questions.get(questionId);
      if (!q) throw new Error(`no pending question ${questionId}`);
      questions.delete(questionId);
      const response: ToolRequestUserInputResponse = { answers: {} };
      q.ids.forEach((id, i) => {
        response.answers[id] = { answers: answers[i] ?? [] };
      });
      await server.rpc.respond(q.rpcId, response);
    });

    if (ctx.signal.aborted) return { sessionId: threadId };
    const turn = await server.rpc.request<TurnStartResponse>('turn/start', {
      threadId,
      input: [{ type: 'text', text: request.prompt, text_elements: [] }],
      approvalPolicy: policy.approvalPolicy,
      sandboxPolicy: sandboxPolicy(policy.sandbox),
      ...(cwd !== undefined ? { cwd } : {}),
      ...(model !== undefined ? { model } : {}),
      // Codex's Plan mode: read-only, and the model may ask the user (`request_user_input` works only here).
      ...(mode === 'plan' && model !== undefined
        ? {
            collaborationMode: {
              mode: 'plan',
              settings: { model, reasoning_effort: null, developer_instructions: null },
            },
          }
        : {}),
    });
    const turnId = turn.turn.id;
    mapper.setTurnId(turnId);
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
    if (outcome) return outcome;
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

function commandInput(params: Params): Record<string, unknown> {
  return {
    command: params.command ?? null,
    cwd: params.cwd ?? null,
    reason: params.reason ?? null,
    commandActions: params.commandActions ?? [],
  };
}

/** The file change an approval is about, from the item the server announced before asking. */
function fileChanges(mapper: TurnMapper, params: Params): FileUpdateChange[] | undefined {
  const item = mapper.items.get(String(params.itemId));
  return item?.type === 'fileChange' ? item.changes : undefined;
}

function inside(changes: FileUpdateChange[], cwd: string | undefined): boolean {
  if (cwd === undefined || changes.length === 0) return false;
  return changes.every((c) => {
    const rel = relative(cwd, isAbsolute(c.path) ? c.path : `${cwd}/${c.path}`);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  });
}

/**
 * Forge's decision → the server's: `allow` → `accept`, `allow_always` → `acceptForSession` (the same kind of
 * request is not asked again in this thread), `deny` → `decline` (the item ends declined, the model goes on).
 * A permissions request is granted what it asked for, for the turn or the session.
 */
function approvalResponse(p: Pending, decision: PermissionDecision): unknown {
  if (p.kind === 'permissions') {
    if (decision === 'deny') return { permissions: {}, scope: 'turn' };
    const asked = (p.params.permissions ?? {}) as Record<string, unknown>;
    const granted = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== null));
    return { permissions: granted, scope: decision === 'allow_always' ? 'session' : 'turn' };
  }
  return { decision: decision === 'allow' ? 'accept' : decision === 'allow_always' ? 'acceptForSession' : 'decline' };
}

function toQuestion(q: ToolRequestUserInputParams['questions'][number]): Question {
  const question: Question = {
    question: q.question,
    options: (q.options ?? []).map((o) =>
      o.description ? { label: o.label, description: o.description } : { label: o.label },
    ),
    multiple: false,
    custom: q.isOther || !q.options?.length,
  };
  if (q.header) question.header = q.header;
  return question;
}
