import { describe, expect, it } from 'vitest';
import { readLines } from './read-lines.js';

async function* chunks(...parts: Array<string | Uint8Array>) {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

describe('readLines', () => {
  it('gives whole, non-blank lines across chunk boundaries, CRLF or not, and the last unterminated one', async () => {
    const lines: string[] = [];
    let bytes = 0;
    const euro = new TextEncoder().encode('€'); // three bytes, split across two chunks
    await readLines(
      chunks('warn: one\r\nwarn: t', 'wo\n\n  \n', euro.subarray(0, 1), euro.subarray(1), ' left\nlast'),
      (l) => lines.push(l),
      (c) => (bytes += c.byteLength),
    );
    expect(lines).toEqual(['warn: one', 'warn: two', '€ left', 'last']);
    expect(bytes).toBe(new TextEncoder().encode('warn: one\r\nwarn: two\n\n  \n€ left\nlast').byteLength);
  });
});
