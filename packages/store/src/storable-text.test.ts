import { describe, expect, it } from 'vitest';
import { fromStorable, readableRows, storableParams, toStorable } from './storable-text.js';

/** Strings of random UTF-16 code units, mostly the awkward ones. */
function randomStrings(count: number): string[] {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const awkward = [0, 1, 0x30, 0x61, 0x0a, 0x2c, 0xd800, 0xdbff, 0xdc00, 0xdfff];
  return Array.from({ length: count }, () =>
    String.fromCharCode(
      ...Array.from({ length: Math.floor(rnd() * 24) }, () =>
        rnd() < 0.7 ? awkward[Math.floor(rnd() * awkward.length)]! : Math.floor(rnd() * 0x10000),
      ),
    ),
  );
}

/** What PostgreSQL text cannot hold: a NUL, or a surrogate without its other half. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL is what it looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (s: string) => UNSTORABLE.test(s);

describe('storable text', () => {
  it('reads back exactly what was written, one to one, and leaves nothing PostgreSQL refuses', () => {
    const all = randomStrings(5_000);
    const stored = new Map<string, string>();
    for (const s of all) {
      const t = toStorable(s);
      expect(unstorable(t)).toBe(false);
      expect(fromStorable(t)).toBe(s);
      // Never a separator the journal splits on that was not there.
      expect(t.split('\n').length).toBe(s.split('\n').length);
      expect(t.split(',').length).toBe(s.split(',').length);
      const before = stored.get(t);
      if (before !== undefined) expect(before).toBe(s);
      stored.set(t, s);
    }
  });

  it('passes JSON text and paired surrogates through unchanged', () => {
    for (const s of ['{"a":"\\u0000\\ud800"}', JSON.stringify({ x: '\u0000\u0001\ud800' }), '😀', 'plain']) {
      expect(toStorable(s)).toBe(s);
    }
  });

  it('escapes parameters, in arrays too, and unescapes rows', () => {
    expect(storableParams(['\u0000', 1, null, ['\ud800', 2]])).toEqual(['\u00010000', 1, null, ['\u0001d800', 2]]);
    expect(readableRows([{ a: '\u00010000', b: 3, c: ['\u0001dfff'], d: null }])).toEqual([
      { a: '\u0000', b: 3, c: ['\udfff'], d: null },
    ]);
  });
});
