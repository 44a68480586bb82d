import {
  TransportError,
  UnsupportedError,
  describeError,
  type AgentEventInit,
  type PermissionDecision,
  type RunContext,
  type RunOutcome,
} from '@forge/core';
import type { OpencodeClient, PermissionReply, PermissionRule, PromptBody } from './client.js';
import { StreamDropped, readFrames } from './event-stream.js';
import { errorCode, errorMessage, errorRetryable } from './error-info.js';
import { TurnMapper } from './turn-mapper.js';
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

function splitModel(model: string): { providerID: string; modelID: string } {
  const slash = model.indexOf('/');
  if (slash <= 0 || slash === model.length - 1) {
    throw new UnsupportedError(
      'opencode',
      `model "${model}" (use "<providerID>/<modelID>", e.g. "anthropic/claude-sonnet-4")`,
    );
  }
  return { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) };
}

function promptBody(ctx: RunContext, settings: TurnSettings): PromptBody {
  const { request } = ctx;
  const body: PromptBody = { parts: [{ type: 'text', text: request.prompt }] };
  const model = request.model ?? settings.model;
  if (model) body.model = splitModel(model);
  const agent = request.permissionMode === 'plan' ? 'plan' : settings.agent;
  if (agent) body.agent = agent;
  if (request.systemPrompt) body.system = request.systemPrompt;
  if (request.allowedTools || request.disallowedTools) {
    const tools: Record<string, boolean> = {};
    // An allow-list switches everything else off; OpenCode's `*` key covers tools not named.
    if (request.allowedTools) {
      tools['*'] = false;
      for (const t of request.allowedTools) tools[t] = true;
    }
    for (const t of request.disallowedTools ?? []) tools[t] = false;
    body.tools = tools;
  }
  return body;
}

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
  try {
    let response: Response;
    try {
      response = await client.openEvents(directory, connection.signal);
    } catch (error) {
      if (signal.aborted) return {};
      return failWith(emit, error);
    }

    let known: string[] = [];
    if (request.sessionId) {
      // Also proves the session exists (404 → NOT_FOUND) before a prompt is sent to nowhere.
      known = (await client.messages(request.sessionId, directory, signal)).map((m) => m.info.id);
      sessionId = request.sessionId;
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
    }
    const sid = sessionId;
    ctx.emit({
      type: 'session.started',
      sessionId: sid,
      ...((request.model ?? settings.model) ? { model: (request.model ?? settings.model)! } : {}),
      ...(directory ? { cwd: directory } : {}),
    });
    const turn = new TurnMapper(sid, emit, known);
    mapper = turn;
    ctx.onRespond((permissionId, decision, message) =>
      client.replyPermission(permissionId, REPLIES[decision], message, directory),
    );
    ctx.onAnswer((questionId, answers) => client.replyQuestion(questionId, answers, directory));

    if (signal.aborted) return {};
    sent = true;
    await client.promptAsync(sid, body, directory, signal);

    let downSince: number | undefined;
    for (;;) {
      let idle = false;
      try {
        for await (const batch of readFrames(response.body!, settings.stallTimeoutMs)) {
          downSince = undefined;
          for (const data of batch) {
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
        if (signal.aborted) return {};
        if (!(error instanceof StreamDropped)) throw error;
        emit({ type: 'log', level: 'warn', text: `${error.message}; reconnecting` });
      }
      if (idle) break;

      // Reconnect with backoff until the server answers or the bound passes.
      turn.markGap();
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
      if (reconnected === undefined) return {};
      response = reconnected;
      emit({ type: 'log', level: 'info', text: 'the OpenCode event stream is back; reconciling the session' });
      // Subscribed again first, then read what the server holds: anything the gap swallowed is
      // emitted now, anything both sources carry is emitted once (the mapper is idempotent).
      turn.applyMessages(await client.messages(sid, directory, signal));
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
      turn.applyMessages(await client.messages(sid, directory, signal));
    } catch (error) {
      if (signal.aborted) return {};
      emit({ type: 'log', level: 'warn', text: `could not read the final messages: ${describeError(error).message}` });
    }
    turn.finish();
    const failure = turn.failure();
    const outcome: RunOutcome = { sessionId: sid, turns: turn.turns, costUsd: turn.costUsd };
    if (failure) {
      return {
        ...outcome,
        status: 'failed',
        error: { code: errorCode(failure), message: errorMessage(failure), retryable: errorRetryable(failure) },
      };
    }
    return { ...outcome, status: 'completed' };
  } catch (error) {
    if (signal.aborted) return {};
    return failWith(emit, error, sessionId);
  } finally {
    signal.removeEventListener('abort', unlink);
    connection.abort();
    if (signal.aborted && sessionId !== undefined && sent && ctx.stopReason) {
      if (mapper) mapper.aborting = true;
      // A question left waiting would outlive the abort on the server (GET /question still lists it).
      for (const id of mapper?.openQuestions ?? []) {
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
