import { describe, expect, it } from 'vitest';
import { joinSessionParts, sessionParts } from './session-parts.js';

const bytes = (s: string) => Buffer.from(s);
const info = { provider: 'p', sessionId: 's', createdAt: 'c', updatedAt: 'u', size: 0 };

describe('session parts', () => {
  it('cuts patches into parts of at most maxBytes; later pieces of a file append after the first', () => {
    const parts = sessionParts(
      [
        { path: 'a', data: bytes('0123456789') },
        { path: 'b', data: bytes('xyz'), from: 100 },
        { path: 'c', data: bytes('') },
      ],
      4,
    );
    expect(parts.map((p) => p.map((f) => [f.path, Buffer.from(f.data).toString(), f.from]))).toEqual([
      [['a', '0123', undefined]],
      [['a', '4567', 4]],
      [
        ['a', '89', 8],
        ['b', 'xy', 100],
      ],
      [
        ['b', 'z', 102],
        ['c', '', undefined],
      ],
    ]);
  });

  it('an empty save is one empty part', () => {
    expect(sessionParts([], 4)).toEqual([[]]);
  });

  it('joins the parts of a snapshot back into whole files, and refuses a piece that does not continue its file', () => {
    const pieces = sessionParts([{ path: 'a', data: bytes('hello world') }], 3).flat();
    expect(Buffer.from(joinSessionParts(info, pieces).files[0]!.data).toString()).toBe('hello world');
    expect(() => joinSessionParts(info, [pieces[0]!, pieces[2]!])).toThrow(/does not continue/);
  });
});
