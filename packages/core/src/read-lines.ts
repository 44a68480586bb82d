/**
 * Reads a byte stream (a process's stderr) as UTF-8 lines: `onLine` gets each non-blank line, without
 * its `\r\n`, the unterminated last one included; `onChunk` sees every chunk first (a tail for error
 * messages). A character split across chunks is decoded whole.
 */
export async function readLines(
  stream: AsyncIterable<Uint8Array>,
  onLine: (line: string) => void,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let partial = '';
  const emit = (text: string, final: boolean) => {
    const lines = (partial + text).split('\n');
    partial = final ? '' : lines.pop()!;
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim()) onLine(line);
    }
  };
  for await (const chunk of stream) {
    onChunk?.(chunk);
    emit(decoder.decode(chunk, { stream: true }), false);
  }
  emit(decoder.decode(), true);
}
