import { once } from 'node:events';
import { ApiError } from '../api-error.js';
import type { AgentBackend, AgentLogsOptions, AgentRecord } from '../backends/backend.js';
import { agentOf, reply, type ApiContext } from './context.js';
import type { Router } from './router.js';

/** Lines a client gets without asking (`tail` absent). */
export const DEFAULT_LOG_TAIL = 200;
/** The most lines one request may ask for: what the backends keep per agent. */
export const MAX_LOG_TAIL = 5_000;

/**
 * Where an agent's lines come from; undefined when there is no log for it (the backend keeps none). The
 * platform answers remote agents' from the dial-home link and the rest from `backend.logs`.
 */
export type AgentLogSource = (agent: AgentRecord, options: AgentLogsOptions) => AsyncIterable<string> | undefined;

export interface AgentLogsRoutesOptions {
  backend: AgentBackend;
  /** Default: `backend.logs`. */
  logs?: AgentLogSource;
  /** SSE keep-alive comments while following. Default 15 s. */
  heartbeatMs?: number;
}

const QUERY = new Set(['tail', 'follow', 'user_id']);

function tailOf(raw: string | null): number {
  if (raw === null) return DEFAULT_LOG_TAIL;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n <= MAX_LOG_TAIL))
    throw new ApiError(
      400,
      'INVALID_TAIL',
      `tail must be an integer from 0 to ${MAX_LOG_TAIL}, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return n;
}

function followOf(raw: string | null): boolean {
  if (raw === null || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ApiError(
    400,
    'INVALID_FOLLOW',
    `follow must be 1, true, 0 or false, got ${JSON.stringify(raw.slice(0, 40))}`,
  );
}

/**
 * `GET /api/v1/agents/:id/logs?tail=N&follow=1`: the agent's log (its program's stderr, its pod's log, the
 * remote agent's own lines). Without `follow`, JSON `{ agent_id, lines }`; with it, Server-Sent Events, one
 * `data:` per line, the tail first, until the client goes. Another user's agent is the same 404 as elsewhere.
 */
export function agentLogsRoutes(router: Router<ApiContext>, options: AgentLogsRoutesOptions): void {
  const source: AgentLogSource = options.logs ?? ((agent, o) => options.backend.logs?.(agent, o));
  router.on('GET', '/api/v1/agents/:id/logs', async (ctx) => {
    const agent = await agentOf(ctx, options.backend);
    for (const name of ctx.url.searchParams.keys())
      if (!QUERY.has(name)) throw new ApiError(400, 'UNKNOWN_PARAMETER', `Unknown query parameter ${name}`);
    const tail = tailOf(ctx.url.searchParams.get('tail'));
    const follow = followOf(ctx.url.searchParams.get('follow'));
    const gone = new AbortController();
    const end = () => gone.abort();
    ctx.req.on('close', end);
    ctx.res.on('close', end);
    try {
      const lines = source(agent, { tail, follow, signal: gone.signal });
      if (!lines)
        throw new ApiError(409, 'LOGS_UNAVAILABLE', `The ${options.backend.kind} backend keeps no log for this agent`);
      if (!follow) {
        const all: string[] = [];
        for await (const line of lines) all.push(line);
        return reply(ctx, 200, { agent_id: agent.agentId, lines: tail === 0 ? [] : all.slice(-tail) });
      }
      await streamLines(ctx, lines, gone.signal, options.heartbeatMs ?? 15_000);
    } finally {
      ctx.req.off('close', end);
      ctx.res.off('close', end);
      gone.abort();
    }
  });
}

async function streamLines(
  ctx: ApiContext,
  lines: AsyncIterable<string>,
  signal: AbortSignal,
  heartbeatMs: number,
): Promise<void> {
  const { res } = ctx;
  const iterator = lines[Symbol.asyncIterator]();
  // Answered at once: a quiet agent may write nothing for minutes, and the client should know it is following.
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...ctx.limits,
  });
  res.write(': logs\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
  try {
    let next = await iterator.next();
    while (!next.done && !signal.aborted) {
      // A CR would end the SSE line early.
      if (!res.write(`data: ${next.value.replaceAll('\r', '')}\n\n`)) {
        const drained = await once(res, 'drain', { signal }).then(
          () => true,
          () => false,
        );
        if (!drained) break;
      }
      next = await iterator.next();
    }
  } catch {
    // The source failed mid-stream (the pod went): the stream just ends; the status line is long sent.
  } finally {
    clearInterval(heartbeat);
    await iterator.return?.().catch(() => {});
    res.end();
  }
}
