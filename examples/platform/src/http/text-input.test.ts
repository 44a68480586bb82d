import type { ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { cursorOf, identifierOf, requestIdOf } from './identifiers.js';
import { refuseBadText } from './text-input.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return [(error as { code: string }).code, (error as ValidationError).issues?.[0]?.path];
  }
  return undefined;
};

describe('refuseBadText', () => {
  it('lets any well-formed text through, astral characters and all', () => {
    expect(codeOf(() => refuseBadText({ content: 'héllo 😀 \u2028', list: ['a', { b: 'ç' }], n: 1 }))).toBeUndefined();
  });

  it.each([
    [{ content: 'a\u0000b' }, {}, 'INVALID_INPUT', 'content'],
    [{ content: 'a\ud800b' }, {}, 'INVALID_INPUT', 'content'],
    [{ content: 'x\udc00' }, {}, 'INVALID_INPUT', 'content'],
    [{ content: 'ok', answers: [['a', 'b\ud83d']] }, {}, 'INVALID_INPUT', 'answers.0.1'],
    [{ model: 'a\ud800' }, { model: 'INVALID_MODEL' }, 'INVALID_MODEL', 'model'],
    [{ 'k\u0000': 'v' }, {}, 'INVALID_INPUT', 'k\ufffd'],
  ])('refuses %j', (body, codes, code, path) => {
    expect(codeOf(() => refuseBadText(body as Record<string, unknown>, codes))).toEqual([code, path]);
  });
});

describe('ids from the path and the query', () => {
  it('takes run ids of the run manager’s shape only', () => {
    expect(requestIdOf(`req_${'a1'.repeat(16)}`)).toBe(`req_${'a1'.repeat(16)}`);
    for (const bad of ['', 'req_', 'req_\u0000', '..', 'req_a/b', `req_${'a'.repeat(65)}`, 'run_1'])
      expect(codeOf(() => requestIdOf(bad))?.[0]).toBe('INVALID_REQUEST_ID');
  });

  it('takes printable ids of other parties up to 256 characters', () => {
    expect(identifierOf('toolu_01 ABC:é', 'permission_id', 'X')).toBe('toolu_01 ABC:é');
    for (const bad of ['a\u0000', 'a\u001f', 'a\u007f', 'a\ud800', 'x'.repeat(257)])
      expect(codeOf(() => identifierOf(bad, 'permission_id', 'INVALID_PERMISSION_ID'))?.[0]).toBe(
        'INVALID_PERMISSION_ID',
      );
  });

  it('takes cursors that are safe integers', () => {
    expect(cursorOf(null)).toBeUndefined();
    expect(cursorOf('42')).toBe(42);
    for (const bad of ['', '-1', '1e20', '1.5', '9007199254740993', '9223372036854775808', ' 1', '0x1'])
      expect(codeOf(() => cursorOf(bad))?.[0]).toBe('INVALID_CURSOR');
  });
});
