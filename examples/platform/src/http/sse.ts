import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JournalEvent } from '@forge/store';
import { ApiError } from '../api-error.js';

export interface SseOptions {
  /** Comment lines that keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
  /** Called as the stream opens; what it returns is called as it closes. */
  onOpen?: () => () => void;
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
  const closed = options.onOpen?.();
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
    closed?.();
    req.off('close', end);
    res.off('close', end);
    res.end();
  }
}

/** The largest seq a run's journal can hold (the column is a PostgreSQL integer). */
export const MAX_SEQ = 2 ** 31 - 1;

/**
 * Last-Event-ID (header, or `last_event_id` in the query for clients that cannot set headers); none
 * is 0. Anything but an integer from 0 to MAX_SEQ is a 400 INVALID_LAST_EVENT_ID, before the stream
 * starts: not a replay from the start, and not a 500 from the database.
 */
export function lastEventId(req: IncomingMessage, url: URL): number {
  const raw = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('last_event_id') ?? '';
  if (raw === '') return 0;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n <= MAX_SEQ)) {
    throw new ApiError(
      400,
      'INVALID_LAST_EVENT_ID',
      `Last-Event-ID must be the id of an event: an integer from 0 to ${MAX_SEQ}, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return n;
}
