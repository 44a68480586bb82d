import type { AgentRequest, RunOutcome } from '@forge/core';
import { CodexErrorCode } from '../error-codes.js';
import type { ThreadForkParams } from '../gen/v2/ThreadForkParams.js';
import type { ThreadForkResponse } from '../gen/v2/ThreadForkResponse.js';
import type { ThreadResumeParams } from '../gen/v2/ThreadResumeParams.js';
import type { ThreadResumeResponse } from '../gen/v2/ThreadResumeResponse.js';
import type { ThreadStartParams } from '../gen/v2/ThreadStartParams.js';
import type { ThreadStartResponse } from '../gen/v2/ThreadStartResponse.js';
import type { AppServerProcess } from './app-server-process.js';
import { JsonRpcError } from './json-rpc-client.js';
import { takeSpare } from './spare-thread.js';

/** What `thread/start`, `thread/resume` and `thread/fork` share. */
export type ThreadParams = Omit<ThreadStartParams, 'ephemeral'>;

/**
 * The thread a run's turn goes to: a new one (the server's spare thread when its settings match, else `thread/start`), a fork of `sessionId` (`thread/fork`: a new thread
 * with its history; the original stays as it was), or `sessionId` itself — as loaded in this process, or
 * `thread/resume`d from disk. A loaded thread whose MCP servers differ from the request's is resumed again, so the
 * new servers apply (MCP servers are thread config, fixed when a thread loads).
 */
export async function openThread(
  server: AppServerProcess,
  request: AgentRequest,
  params: ThreadParams,
  ephemeral: boolean | undefined,
): Promise<{ threadId: string } | { failed: RunOutcome }> {
  const mcp = JSON.stringify(params.config ?? {});
  const sessionId = request.sessionId;
  try {
    if (sessionId === undefined) {
      const spare = await takeSpare(server, params, ephemeral);
      if (spare !== undefined) {
        server.loaded.set(spare, mcp);
        return { threadId: spare };
      }
      const started = await server.rpc.request<ThreadStartResponse>('thread/start', {
        ...params,
        ...(ephemeral ? { ephemeral: true } : {}),
      } satisfies ThreadStartParams);
      server.loaded.set(started.thread.id, mcp);
      return { threadId: started.thread.id };
    }
    if (request.fork) {
      const forked = await server.rpc.request<ThreadForkResponse>('thread/fork', {
        threadId: sessionId,
        ...params,
        ...(ephemeral ? { ephemeral: true } : {}),
      } satisfies ThreadForkParams);
      server.loaded.set(forked.thread.id, mcp);
      return { threadId: forked.thread.id };
    }
    if (server.busy(sessionId))
      return failed(CodexErrorCode.SESSION_BUSY, `Session ${sessionId} is running a turn already`, sessionId);
    const loaded = server.loaded.get(sessionId);
    if (loaded !== mcp) {
      if (loaded !== undefined) await server.rpc.request('thread/unsubscribe', { threadId: sessionId });
      await server.rpc.request<ThreadResumeResponse>('thread/resume', {
        threadId: sessionId,
        ...params,
      } satisfies ThreadResumeParams);
    }
    server.loaded.set(sessionId, mcp);
    return { threadId: sessionId };
  } catch (error) {
    // Codex refuses to load a thread whose required MCP servers did not start, naming them in the message.
    if (error instanceof JsonRpcError && /MCP servers? failed to initialize/i.test(error.message))
      return failed(CodexErrorCode.MCP_SERVER_FAILED, `An MCP server could not start: ${error.message}`, sessionId);
    // The thread exists, but another app server (another agent on the same CODEX_HOME) has it loaded.
    if (sessionId !== undefined && error instanceof JsonRpcError && /already has an active writer/i.test(error.message))
      return failed(
        CodexErrorCode.SESSION_BUSY,
        `Session ${sessionId} is held by another Codex process (another agent's app server): ${error.message}`,
        sessionId,
      );
    if (sessionId !== undefined && error instanceof JsonRpcError)
      return failed(
        CodexErrorCode.SESSION_NOT_FOUND,
        `Codex could not ${request.fork ? 'fork' : 'resume'} the session: ${error.message}`,
      );
    throw error;
  }
}

function failed(code: string, message: string, sessionId?: string): { failed: RunOutcome } {
  const out: RunOutcome = { status: 'failed', error: { code, message, retryable: false } };
  if (sessionId !== undefined) out.sessionId = sessionId;
  return { failed: out };
}
