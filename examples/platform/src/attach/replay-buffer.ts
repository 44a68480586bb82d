/** The last `limit` bytes of a session's output, kept while no client is attached. */
export class ReplayBuffer {
  readonly #chunks: Array<{ channel: number; data: Uint8Array }> = [];
  #size = 0;
  #dropped = 0;

  constructor(readonly limit: number) {}

  push(channel: number, data: Uint8Array): void {
    this.#chunks.push({ channel, data });
    this.#size += data.byteLength;
    while (this.#size > this.limit && this.#chunks.length) {
      const first = this.#chunks[0]!;
      const over = this.#size - this.limit;
      if (first.data.byteLength <= over) {
        this.#chunks.shift();
        this.#size -= first.data.byteLength;
        this.#dropped += first.data.byteLength;
      } else {
        first.data = first.data.subarray(over);
        this.#size -= over;
        this.#dropped += over;
      }
    }
  }

  /** What was kept, oldest first, and how many bytes were lost to the bound; empties the buffer. */
  drain(): { chunks: Array<{ channel: number; data: Uint8Array }>; dropped: number } {
    const out = { chunks: this.#chunks.splice(0), dropped: this.#dropped };
    this.#size = 0;
    this.#dropped = 0;
    return out;
  }

  get size(): number {
    return this.#size;
  }
}
