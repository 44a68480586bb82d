import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JournalEvent } from '@forge/store';

export interface SseOptions {
  /** Comment lines that keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
}

/**
 * Streams a run's events as Server-Sent Events: `id` is the event's seq (so Last-Event-ID resumes,
 * from the journal, on any replica), `data` the event as JSON. The stream ends after
 * `run.completed`. A reader that does not keep up is waited for (the journal is the buffer).
 */
export async function streamRun(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  events: (signal: AbortSignal) => AsyncIterable<JournalEvent>,
  headers: Record<string, string>,
  options: SseOptions = {},
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.write(`: request ${requestId}\nretry: 2000\n\n`);
  const gone = new AbortController();
  const end = () => gone.abort();
  req.on('close', end);
  res.on('close', end);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  try {
    for await (const event of events(gone.signal)) {
      if (gone.signal.aborted) break;
      if (!res.write(`id: ${event.seq}\ndata: ${event.body}\n\n`)) {
        // once() removes both of its listeners whichever comes first: a slow reader drains many
        // times over a long run, and each wait must leave nothing behind.
        const drained = await once(res, 'drain', { signal: gone.signal }).then(
          () => true,
          () => false,
        );
        if (!drained) break;
      }
    }
  } finally {
    clearInterval(heartbeat);
    req.off('close', end);
    res.off('close', end);
    res.end();
  }
}

/**
 * The largest Last-Event-ID read as one: a seq is a 32-bit integer in the journal, which reads a page of events
 * past it, so a larger one would overflow the query rather than name an event. No run has a billion events.
 */
export const MAX_EVENT_ID = 1_000_000_000;

/**
 * Last-Event-ID (header, or `last_event_id` in the query for clients that cannot set headers). One that is no
 * seq this server could have sent (not a whole number, or past MAX_EVENT_ID) reads as 0: from the start.
 */
export function lastEventId(req: IncomingMessage, url: URL): number {
  const raw = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('last_event_id') ?? '0';
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= MAX_EVENT_ID ? n : 0;
}
