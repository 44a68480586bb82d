import { describe, expect, it } from 'vitest';
import { joinChunks } from './join-chunks.js';

describe('joinChunks', () => {
  it('returns a lone chunk itself, without a copy', () => {
    const only = new Uint8Array([1, 2, 3]);
    expect(joinChunks([only], 3)).toBe(only);
  });

  it('joins chunks in order, with the total given or counted', () => {
    const chunks = [new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])];
    expect(joinChunks(chunks, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(joinChunks(chunks)).toEqual(new Uint8Array([1, 2, 3]));
    expect(joinChunks([])).toEqual(new Uint8Array(0));
  });
});
