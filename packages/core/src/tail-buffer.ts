/** Keeps the last `limit` bytes of a stream, decoded, for error messages. */
export class TailBuffer {
  private chunks: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    while (this.size - this.chunks[0]!.byteLength >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.byteLength;
    }
  }

  text(): string {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    const from = Math.max(0, this.size - this.limit);
    // `fatal: false` turns a character cut at the start into U+FFFD instead of throwing.
    return new TextDecoder()
      .decode(all.subarray(from))
      .replace(/^\uFFFD+/, '')
      .trim();
  }
}
