import { joinChunks } from './join-chunks.js';

/** A push source that can be paused: a PTY, a child's pipe. */
export interface PausableSource {
  onData(listener: (chunk: Uint8Array) => void): void;
  onEnd(listener: (error?: Error) => void): void;
  pause(): void;
  resume(): void;
}

/**
 * A web ReadableStream over a pausable push source, paused whenever more than `highWaterMark` bytes
 * wait unread: a reader that stops reading stops the producer (the process blocks on its write)
 * instead of growing a buffer.
 *
 * What arrived while the reader was busy is handed over as one chunk at its next read: a reader
 * that keeps up gets the source's chunks as they came (no copy), one that falls behind gets fewer,
 * larger ones — each read, frame and socket write downstream then carries more (node-pty's 4 KiB
 * reads, a pipe's 64 KiB) instead of falling further behind on per-chunk costs.
 */
export function pacedReadable(source: PausableSource, highWaterMark = 256 * 1024): ReadableStream<Uint8Array> {
  let paused = false;
  let done = false;
  let error: Error | undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let wake: (() => void) | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start() {
        source.onData((chunk) => {
          if (done || chunk.byteLength === 0) return;
          pending.push(chunk);
          pendingBytes += chunk.byteLength;
          if (pendingBytes >= highWaterMark && !paused) {
            paused = true;
            source.pause();
          }
          wake?.();
        });
        source.onEnd((e) => {
          if (done) return;
          done = true;
          error = e;
          wake?.();
        });
      },
      async pull(controller) {
        while (pendingBytes === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (pendingBytes > 0) {
          const chunk = joinChunks(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          controller.enqueue(chunk);
          if (paused && !done) {
            paused = false;
            source.resume();
          }
          return;
        }
        if (error) controller.error(error);
        else controller.close();
      },
      cancel() {
        done = true;
        pending = [];
        pendingBytes = 0;
        if (paused) source.resume();
      },
    },
    // Nothing is read ahead into the stream's own queue: what waits, waits in `pending`, merged.
    { highWaterMark: 0 },
  );
}
