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
 */
export function pacedReadable(source: PausableSource, highWaterMark = 256 * 1024): ReadableStream<Uint8Array> {
  let paused = false;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.onData((chunk) => {
          if (done) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0 && !paused) {
            paused = true;
            source.pause();
          }
        });
        source.onEnd((error) => {
          if (done) return;
          done = true;
          if (error) controller.error(error);
          else controller.close();
        });
      },
      pull() {
        if (paused) {
          paused = false;
          source.resume();
        }
      },
      cancel() {
        done = true;
        if (paused) source.resume();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
}
