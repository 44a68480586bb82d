/** Output bytes in one frame: a pipe's read, so a reader that keeps up sends each read as one frame. */
export const FRAME_BODY = 64 * 1024;

/**
 * Reusable buffers for output frames (the channel byte, then up to FRAME_BODY bytes). A new 64 KiB buffer per
 * frame is external memory to V8: at a few hundred MB/s it set off a full (mark-compact) collection every ~150 ms,
 * which cost more CPU than the socket writes (profiled: 19 % of the platform's samples vs 6 % for writev). A
 * buffer comes back once the socket has taken the frame (ws's send callback), and at most `keep` wait here.
 */
export class FramePool {
  readonly #free: Buffer[] = [];

  constructor(private readonly keep = 8) {}

  /** A frame of `channel` and `body` (at most FRAME_BODY bytes), and the buffer to give back once it is sent. */
  frame(channel: number, body: Uint8Array): { frame: Buffer; buffer: Buffer } {
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(FRAME_BODY + 1);
    buffer[0] = channel;
    buffer.set(body, 1);
    return { frame: buffer.subarray(0, body.byteLength + 1), buffer };
  }

  give(buffer: Buffer): void {
    if (this.#free.length < this.keep) this.#free.push(buffer);
  }
}
