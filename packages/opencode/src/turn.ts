import {
  TransportError,
  describeError,
  type AgentEventInit,
  type PermissionDecision,
  type RunContext,
  type RunOutcome,
} from '@forge/core';
import type { OpencodeClient, PermissionReply, PermissionRule } from './client.js';
import { StreamDropped, readFrames } from './event-stream.js';
import { errorCode, errorMessage, errorRetryable } from './error-info.js';
import { TurnMapper } from './turn-mapper.js';
import { FileChangeLog } from './file-changes.js';
import { refuseWhatTheModelLacks } from './model-check.js';
import { promptBody } from './prompt-body.js';
import { delay } from '@forge/core/internal';

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface ReconnectOptions {
  /** First wait before reconnecting. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest wait between attempts. Default 5 s. */
  maxDelayMs?: number;
  /** How long the server may stay away before the run fails. Default 60 s. */
  giveUpAfterMs?: number;
}

export interface TurnSettings {
  client: OpencodeClient;
  directory?: string;
  agent?: string;
  model?: string;
  permission?: PermissionRule[];
  stallTimeoutMs: number;
  reconnect: Required<ReconnectOptions>;
  sleep: Sleep;
}

const REPLIES: Record<PermissionDecision, PermissionReply> = { allow: 'once', allow_always: 'always', deny: 'reject' };

/** Core's abortable delay, rejecting with the signal's reason on abort (what the reconnect loop expects). */
export const abortableSleep: Sleep = async (ms, signal) => {
  if (!(await delay(ms, signal))) throw signal.reason;
};

/**
 * One run against an OpenCode server: subscribe to `/event`, create or continue the session,
 * send the prompt, map this session's events until it goes idle — reconnecting and reconciling
 * through `GET /session/:id/message` when the stream drops — and abort the session on cancel.
 */
export async function runTurn(ctx: RunContext, settings: TurnSettings): Promise<RunOutcome> {
  const { client, directory } = settings;
  const { request, signal } = ctx;
  const body = promptBody(ctx, settings);

  let behind = false;
  const emit = (event: AgentEventInit) => {
    if (!ctx.emit(event)) behind = true;
  };

  // Subscribe before anything happens on the server, so no event of the turn can slip by.
  let connection = new AbortController();
  const unlink = () => connection.abort(signal.reason);
  signal.addEventListener('abort', unlink, { once: true });

  let sessionId: string | undefined;
  let sent = false;
  let mapper: TurnMapper | undefined;
  // Subagents (`task` calls) run in child sessions; their events come nested under the call that started them.
  const children = new Map<string, TurnMapper>();
  // A stopped turn (cancel, timeout, a budget) has no status of its own, but what it spent is known: the host
  // (and a per-key spend cap) needs the cost of a run a budget stopped.
  const stopped = (): RunOutcome => {
    if (!mapper) return {};
    let costUsd = mapper.costUsd;
    for (const child of children.values()) costUsd += child.costUsd;
    return { ...(sessionId !== undefined ? { sessionId } : {}), turns: mapper.turns, costUsd };
  };
  try {
    await refuseWhatTheModelLacks(request, client, settings, signal);
    let response: Response;
    try {
      response = await client.openEvents(directory, connection.signal);
    } catch (error) {
      if (signal.aborted) return stopped();
      return failWith(emit, error);
    }

    let known: string[] = [];
    let sessionDirectory: string | undefined;
    if (request.sessionId) {
      let from = request.sessionId;
      if (request.fork) {
        // The copy gets the turn; the original stays as it was (its id is in the new session's parentID).
        const forked = await client.forkSession(request.sessionId, directory, signal);
        from = forked.id;
        sessionDirectory = forked.directory;
      }
      // Also proves the session exists (404 → NOT_FOUND) before a prompt is sent to nowhere.
      known = await knownMessages(client, from, directory, signal, emit);
      sessionId = from;
    } else {
      const created = await client.createSession(
        {
          ...(settings.agent ? { agent: settings.agent } : {}),
          ...(settings.permission ? { permission: settings.permission } : {}),
        },
        directory,
        signal,
      );
      sessionId = created.id;
      sessionDirectory = created.directory;
    }
    const sid = sessionId;
    ctx.emit({
      type: 'session.started',
      sessionId: sid,
      ...((request.model ?? settings.model) ? { model: (request.model ?? settings.model)! } : {}),
      ...(directory ? { cwd: directory } : {}),
    });
    const files = new FileChangeLog(directory ?? sessionDirectory);
    const addChild = (childId: string, callId: string) => {
      const nested = (event: AgentEventInit) => emit({ ...event, parentToolCallId: event.parentToolCallId ?? callId });
      children.set(childId, new TurnMapper(childId, nested, [], { files, onChild: addChild }));
    };
    const turn = new TurnMapper(sid, emit, known, { files, onChild: addChild });
    mapper = turn;
    // False once the server has answered 400 to listing this session (see knownMessages): then the stream is all.
    let listable = true;
    const reconcile = async () => {
      if (!listable) return;
      try {
        turn.applyMessages(await client.messages(sid, directory, signal));
      } catch (error) {
        if (!isBadRequest(error)) throw error;
        listable = false;
        emit({
          type: 'log',
          level: 'debug',
          text: `OpenCode cannot list session ${sid}; the event stream is all there is`,
        });
        return;
      }
      for (const [childId, child] of children) child.applyMessages(await client.messages(childId, directory, signal));
    };
    ctx.onRespond((permissionId, decision, message) =>
      client.replyPermission(permissionId, REPLIES[decision], message, directory),
    );
    ctx.onAnswer((questionId, answers) => client.replyQuestion(questionId, answers, directory));

    if (signal.aborted) return stopped();
    sent = true;
    await client.promptAsync(sid, body, directory, signal);

    let downSince: number | undefined;
    for (;;) {
      let idle = false;
      try {
        for await (const batch of readFrames(response.body!, settings.stallTimeoutMs)) {
          downSince = undefined;
          for (const data of batch) {
            // A child's idle is not the turn's: only the main session's ends it.
            for (const child of children.values()) child.handleFrame(data);
            if (turn.handleFrame(data) === 'idle') {
              idle = true;
              break;
            }
          }
          if (behind) {
            behind = false;
            await ctx.drained();
          }
          if (idle) break;
        }
      } catch (error) {
        if (signal.aborted) return stopped();
        if (!(error instanceof StreamDropped)) throw error;
        emit({ type: 'log', level: 'warn', text: `${error.message}; reconnecting` });
      }
      if (idle) break;

      // Reconnect with backoff until the server answers or the bound passes.
      turn.markGap();
      for (const child of children.values()) child.markGap();
      downSince ??= ctx.clock.now();
      let reconnected: Response | undefined;
      try {
        reconnected = await reconnect(ctx, settings, downSince, () => {
          connection = new AbortController();
          return connection.signal;
        });
      } catch (error) {
        return failWith(emit, error);
      }
      if (reconnected === undefined) return stopped();
      response = reconnected;
      emit({ type: 'log', level: 'info', text: 'the OpenCode event stream is back; reconciling the session' });
      // Subscribed again first, then read what the server holds: anything the gap swallowed is
      // emitted now, anything both sources carry is emitted once (the mapper is idempotent).
      await reconcile();
      const statuses = await client.statuses(directory, signal);
      if (!(sid in statuses)) {
        // Idle now. If the turn's answer is there, it finished while we were away.
        const last = turn.lastAssistant;
        if (last?.time?.completed !== undefined || last?.error) break;
        return failWith(
          emit,
          new TransportError(
            'OPENCODE_TURN_LOST',
            `OpenCode session ${sid} is idle but holds no answer to the prompt (lost while the event stream was down)`,
            { retryable: true },
          ),
        );
      }
    }

    // After an error or abort OpenCode goes idle before its last updates; the messages hold them.
    try {
      await reconcile();
    } catch (error) {
      if (signal.aborted) return stopped();
      emit({ type: 'log', level: 'warn', text: `could not read the final messages: ${describeError(error).message}` });
    }
    turn.finish();
    for (const child of children.values()) child.finish();
    const failure = turn.failure();
    let costUsd = turn.costUsd;
    for (const child of children.values()) costUsd += child.costUsd;
    const outcome: RunOutcome = { sessionId: sid, turns: turn.turns, costUsd };
    const changed = files.list();
    if (changed.length > 0) outcome.filesChanged = changed;
    // The raw structured answer; core checks it against the schema (and asks for a repair).
    const structured = (turn.lastAssistant as { structured?: unknown } | undefined)?.structured;
    if (request.outputSchema !== undefined && structured !== undefined) outcome.output = structured;
    if (failure) {
      return {
        ...outcome,
        status: 'failed',
        error: { code: errorCode(failure), message: errorMessage(failure), retryable: errorRetryable(failure) },
      };
    }
    return { ...outcome, status: 'completed' };
  } catch (error) {
    if (signal.aborted) return stopped();
    return failWith(emit, error, sessionId);
  } finally {
    signal.removeEventListener('abort', unlink);
    connection.abort();
    if (signal.aborted && sessionId !== undefined && sent && ctx.stopReason) {
      if (mapper) mapper.aborting = true;
      // A question left waiting would outlive the abort on the server (GET /question still lists it). Aborting
      // the session stops its subagents too, but their questions wait as well.
      const open = [mapper, ...children.values()].flatMap((m) => [...(m?.openQuestions ?? [])]);
      for (const id of open) {
        await client.rejectQuestion(id, directory).catch((error: unknown) => {
          ctx.logger.warn('could not reject the pending OpenCode question', { id, error: describeError(error) });
        });
      }
      await client.abort(sessionId, directory).catch((error: unknown) => {
        ctx.logger.warn('could not abort the OpenCode session', { sessionId, error: describeError(error) });
      });
    }
  }
}

/**
 * The ids of a continued session's messages, which the turn must not map again. OpenCode 1.18.33 cannot list the
 * messages of a session that had a `json_schema` prompt (400 "Expected OutputFormatJsonSchema"): such a session
 * is proven by `GET /session/:id` instead, and its history stays unmapped (the stream only carries new messages).
 */
const isBadRequest = (error: unknown) => (error as { details?: { status?: unknown } }).details?.status === 400;

async function knownMessages(
  client: OpencodeClient,
  id: string,
  directory: string | undefined,
  signal: AbortSignal,
  emit: (e: AgentEventInit) => void,
): Promise<string[]> {
  try {
    return (await client.messages(id, directory, signal)).map((m) => m.info.id);
  } catch (error) {
    if (!isBadRequest(error)) throw error;
    await client.getSession(id, directory, signal);
    emit({
      type: 'log',
      level: 'warn',
      text: `OpenCode cannot list the messages of session ${id}: ${describeError(error).message}`,
    });
    return [];
  }
}

async function reconnect(
  ctx: RunContext,
  settings: TurnSettings,
  downSince: number,
  fresh: () => AbortSignal,
): Promise<Response | undefined> {
  const { initialDelayMs, maxDelayMs, giveUpAfterMs } = settings.reconnect;
  let delay = initialDelayMs;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    const waited = ctx.clock.now() - downSince;
    if (waited >= giveUpAfterMs) {
      throw new TransportError(
        'OPENCODE_STREAM_LOST',
        `The OpenCode event stream stayed down for ${waited} ms (limit ${giveUpAfterMs} ms, ${attempt - 1} reconnect attempts): ${describeError(lastError).message}`,
        { cause: lastError },
      );
    }
    try {
      await settings.sleep(Math.min(delay, Math.max(0, giveUpAfterMs - waited)), ctx.signal);
    } catch {
      return undefined;
    }
    delay = Math.min(delay * 2, maxDelayMs);
    try {
      return await settings.client.openEvents(settings.directory, fresh());
    } catch (error) {
      if (ctx.signal.aborted) return undefined;
      lastError = error;
    }
  }
}

function failWith(emit: (e: AgentEventInit) => void, error: unknown, sessionId?: string): RunOutcome {
  const { code, message, retryable } = describeError(error, 'OPENCODE_ERROR');
  const details = (error as { details?: Record<string, unknown> }).details;
  emit({ type: 'error', code, message, retryable, ...(details ? { details } : {}) });
  return { status: 'failed', error: { code, message, retryable }, ...(sessionId ? { sessionId } : {}) };
}
