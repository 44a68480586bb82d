import { describe, expect, it } from 'vitest';
import { boundValue, boundValueMeeting, MAX_EVENT_DEPTH } from './bounded-value.js';

function nested(depth: number): unknown {
  let v: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) v = { a: [v] };
  return v;
}

describe('boundValue', () => {
  it('returns a value within the bounds as it is, without copying', () => {
    const v = { a: [1, 'x', { b: null }], when: new Date(0) };
    expect(boundValue(v)).toBe(v);
    expect(boundValue('text')).toBe('text');
    expect(boundValue(undefined)).toBeUndefined();
  });

  it('cuts a value nested 6,000 deep at the depth bound, marked, and it serialises', () => {
    const v = nested(6_000);
    expect(() => JSON.stringify(v)).toThrow(RangeError);
    const bounded = boundValue(v);
    const text = JSON.stringify(bounded);
    expect(text).toContain(`{"$truncated":"depth>${MAX_EVENT_DEPTH}"}`);
    let depth = 0;
    for (
      let cur = bounded as Record<string, unknown>;
      cur && typeof cur === 'object' && !('$truncated' in cur);
      depth++
    )
      cur = Array.isArray(cur) ? cur[0] : (cur as { a: never }).a;
    expect(depth).toBe(MAX_EVENT_DEPTH);
  });

  it('keeps the siblings of a cut branch', () => {
    const v = { shallow: { ok: 1 }, deep: nested(100) };
    const bounded = boundValue(v, { maxDepth: 5 }) as Record<string, unknown>;
    expect(bounded.shallow).toEqual({ ok: 1 });
    expect(JSON.stringify(bounded.deep)).toContain('"$truncated":"depth>5"');
  });

  it('bounds a graph that shares children (exponential once serialised) by node count', () => {
    let v: unknown = { x: 1 };
    for (let i = 0; i < 40; i++) v = { l: v, r: v };
    const bounded = boundValue(v, { maxNodes: 1_000 });
    const text = JSON.stringify(bounded);
    expect(text).toContain('"$truncated":"nodes>1000"');
    expect(text.length).toBeLessThan(100_000);
  });

  it('ends a cycle at the depth bound instead of throwing', () => {
    const v: Record<string, unknown> = { name: 'loop' };
    v.self = v;
    expect(() => JSON.stringify(boundValue(v, { maxDepth: 8 }))).not.toThrow();
  });
});

describe('boundValueMeeting', () => {
  it('says a part was met inside a value within the bounds, so it need not be walked again', () => {
    const input = { command: 'ls' };
    const raw = { message: { content: [{ type: 'tool_use', input }] } };
    expect(boundValueMeeting(raw, input)).toEqual({ value: raw, metPart: true });
    expect(boundValueMeeting(raw, { other: true })).toEqual({ value: raw, metPart: false });
    expect(boundValueMeeting(raw, undefined)).toEqual({ value: raw, metPart: false });
  });

  it('does not vouch for a part inside a value that had to be cut', () => {
    const input = nested(100);
    const raw = { input };
    const { value, metPart } = boundValueMeeting(raw, input);
    expect(metPart).toBe(false);
    expect(JSON.stringify(value)).toContain(`"$truncated":"depth>${MAX_EVENT_DEPTH}"`);
  });
});
