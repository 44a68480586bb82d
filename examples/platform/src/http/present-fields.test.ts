import { describe, expect, it } from 'vitest';
import { presentFields } from './present-fields.js';

describe('presentFields', () => {
  it('leaves out undefined and empty-string fields, keeps 0, false and null, in order', () => {
    const got = presentFields({ a: 'x', b: undefined, c: '', d: 0, e: false, f: null, g: { h: 1 } });
    expect(got).toStrictEqual({ a: 'x', d: 0, e: false, f: null, g: { h: 1 } });
    expect(Object.keys(got)).toEqual(['a', 'd', 'e', 'f', 'g']);
  });
});
