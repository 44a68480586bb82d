/**
 * Output bytes in one frame at most: a byte stream's read fills up to this much (what piled up while the socket
 * was being written), other streams' chunks are cut in pieces of it.
 */
export const FRAME_BODY = 256 * 1024;

/**
 * Reusable buffers for output frames (the channel byte, then up to FRAME_BODY bytes). A new buffer per frame is
 * external memory to V8: at a few hundred MB/s it set off a full (mark-compact) collection every ~150 ms, which
 * cost more CPU than the socket writes (profiled: 19 % of the platform's samples vs 6 % for writev). A buffer
 * comes back once the socket has taken the frame (ws's send callback), and at most `keep` wait here.
 *
 * A byte stream's BYOB reader reads straight into `body()` (the process's output copied once, into the frame);
 * `frame()` copies a chunk from any other stream in.
 */
export class FramePool {
  readonly #free: ArrayBuffer[] = [];

  constructor(private readonly keep = 8) {}

  /** Room for a frame's body: FRAME_BODY bytes after one kept for the channel. For `reader.read(view)`. */
  body(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#take(), 1, FRAME_BODY);
  }

  /** The frame around `body`, a view `body()` was read into (its memory moved by the read, not copied). */
  frameOf(channel: number, body: Uint8Array): Buffer {
    const frame = Buffer.from(body.buffer, body.byteOffset - 1, body.byteLength + 1);
    frame[0] = channel;
    return frame;
  }

  /** A frame of `channel` and `body` (at most FRAME_BODY bytes), copied into a pooled buffer. */
  frame(channel: number, body: Uint8Array): Buffer {
    const frame = Buffer.from(this.#take(), 0, body.byteLength + 1);
    frame[0] = channel;
    frame.set(body, 1);
    return frame;
  }

  /** A frame from `frame()` or `frameOf()` the socket has taken: its memory is free again. */
  give(frame: Buffer): void {
    if (this.#free.length < this.keep) this.#free.push(frame.buffer as ArrayBuffer);
  }

  #take(): ArrayBuffer {
    return this.#free.pop() ?? new ArrayBuffer(FRAME_BODY + 1);
  }
}
