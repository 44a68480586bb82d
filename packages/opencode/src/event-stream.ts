import { createParser } from 'eventsource-parser';

/** The event stream ended, failed or went silent; the run reconnects. */
export class StreamDropped extends Error {
  constructor(
    readonly reason: 'ended' | 'failed' | 'stalled',
    options?: { cause?: unknown },
  ) {
    super(`the OpenCode event stream ${reason}`, options);
    this.name = 'StreamDropped';
  }
}

/** Turns byte chunks into the `data` of each SSE frame (eventsource-parser does the parsing). */
export function createFrameDecoder(): { push(chunk: Uint8Array): string[] } {
  const decoder = new TextDecoder();
  let out: string[] = [];
  const parser = createParser({
    onEvent(message) {
      out.push(message.data);
    },
  });
  return {
    push(chunk) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      const frames = out;
      out = [];
      return frames;
    },
  };
}

/**
 * Reads an SSE body as batches of frame payloads, one batch per network chunk (yielding per chunk
 * rather than per frame keeps the async overhead off the hot path). Throws StreamDropped when the
 * body ends, fails, or sends nothing for `stallTimeoutMs` (OpenCode sends `server.heartbeat`
 * every 10 s, so silence means a dead link a proxy has not noticed).
 */
export async function* readFrames(
  body: ReadableStream<Uint8Array>,
  stallTimeoutMs: number,
): AsyncGenerator<string[], never> {
  const reader = body.getReader();
  const frames = createFrameDecoder();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<'stalled'>((resolve) => {
        timer = setTimeout(() => resolve('stalled'), stallTimeoutMs);
      });
      let next: ReadableStreamReadResult<Uint8Array> | 'stalled';
      try {
        next = await Promise.race([reader.read(), stalled]);
      } catch (error) {
        throw new StreamDropped('failed', { cause: error });
      } finally {
        clearTimeout(timer);
      }
      if (next === 'stalled') throw new StreamDropped('stalled');
      if (next.done) throw new StreamDropped('ended');
      const batch = frames.push(next.value);
      if (batch.length) yield batch;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
