/**
 * The chunks as one: the only chunk itself (no copy), or a new array of `bytes` (their total length; counted
 * here when the caller does not already keep it).
 */
export function joinChunks(
  chunks: readonly Uint8Array[],
  bytes = chunks.reduce((n, c) => n + c.byteLength, 0),
): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
