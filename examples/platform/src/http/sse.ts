import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentEvent } from '@forge/core';
import type { LiveRun } from '../run-manager.js';

export interface SseOptions {
  /** Comment lines that keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
  /** Unsent bytes for one reader at which its stream is ended (it resumes with Last-Event-ID). Default 4 MiB. */
  maxPendingBytes?: number;
}

const frame = (event: AgentEvent) => `id: ${event.seq}\ndata: ${eventJson(event)}\n\n`;

/**
 * An event as JSON, whatever it holds. Core bounds depth and size where events are built; a BigInt (or a value
 * whose toJSON throws) from a custom adapter would still make JSON.stringify throw, and the reader would be cut
 * off without run.completed. Then the odd values are spelled out, or, failing that, the body is marked.
 */
function eventJson(event: AgentEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    try {
      return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    } catch (error) {
      const { runId, seq, time, provider, type } = event;
      return JSON.stringify({ runId, seq, time, provider, type, $unserialisable: String((error as Error)?.message) });
    }
  }
}

/**
 * Streams a run's events as Server-Sent Events: `id` is the event's seq (so Last-Event-ID resumes),
 * `data` the event as JSON. Buffered events come first, then live ones; the stream ends after
 * `run.completed`.
 */
export function streamRun(
  req: IncomingMessage,
  res: ServerResponse,
  live: LiveRun,
  afterSeq: number,
  headers: Record<string, string>,
  options: SseOptions = {},
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.write(`: request ${live.requestId}\nretry: 2000\n\n`);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  const maxPending = options.maxPendingBytes ?? 4 * 1024 * 1024;
  const write = (event: AgentEvent) => {
    if (ended) return;
    res.write(frame(event));
    if (event.type === 'run.completed') end();
    // A reader that does not keep up must not make the server buffer without bound; EventSource and
    // the dashboard reconnect with Last-Event-ID and continue from the run's buffer.
    else if (res.writableLength > maxPending) end();
  };
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const { backlog, unsubscribe } = live.subscribe(afterSeq, write);
  const first = backlog[0]?.seq;
  if (first !== undefined && first > afterSeq + 1)
    res.write(`: events ${afterSeq + 1}-${first - 1} are no longer buffered\n\n`);
  req.on('close', end);
  res.on('close', end);
  for (const event of backlog) write(event);
  if (live.done) end();
}

/** Last-Event-ID (header, or `last_event_id` in the query for clients that cannot set headers). */
export function lastEventId(req: IncomingMessage, url: URL): number {
  const raw = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('last_event_id') ?? '0';
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
