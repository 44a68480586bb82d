import type { RunningProcess } from '@forge/core';

/** A process's stdout as a web ReadableStream, pulled (so a slow reader leaves the rest in the pipe). */
export function readableFrom(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await it.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A process's stdin as a web WritableStream. */
export function writableTo(proc: RunningProcess): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => proc.stdin.write(chunk),
    close: () => proc.stdin.end(),
    abort: () => proc.stdin.end(),
  });
}

/** Keeps the last `limit` characters of a stream's text, for error messages. */
export class TextTail {
  private text = '';
  private readonly decoder = new TextDecoder();
  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): string {
    const piece = this.decoder.decode(chunk, { stream: true });
    this.text = (this.text + piece).slice(-this.limit);
    return piece;
  }

  toString(): string {
    return this.text.trim();
  }
}
