import { ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { labelValue, podNaming, slug, stableHash, validatePodId, validateUserId } from './naming.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const naming = podNaming('forge');

describe('pod names', () => {
  const odd = [
    { userId: 'alice', agentId: 'main' },
    { userId: 'Alice@Example.com', agentId: 'Main Agent #1' },
    { userId: 'ユーザー', agentId: '🤖' },
    { userId: 'x'.repeat(253), agentId: 'y'.repeat(253) },
    { userId: '---', agentId: '...' },
    { userId: 'a', agentId: '-' },
  ];

  it.each(odd)('is a DNS-1123 label of at most 63 characters for %j', (id) => {
    const name = naming.podName(id);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_LABEL);
    expect(name.startsWith('forge-')).toBe(true);
  });

  it('is stable and readable for simple ids', () => {
    expect(naming.podName({ userId: 'alice', agentId: 'main' })).toBe(
      naming.podName({ userId: 'alice', agentId: 'main' }),
    );
    expect(naming.podName({ userId: 'alice', agentId: 'main' })).toMatch(/^forge-alice-main-[a-z2-7]{16}$/);
  });

  it('never gives two identities the same name, even when their readable parts agree', () => {
    const ids = [
      { userId: 'a-b', agentId: 'c' },
      { userId: 'a', agentId: 'b-c' },
      { userId: 'A', agentId: 'b' },
      { userId: 'a', agentId: 'b' },
      { userId: 'a!', agentId: 'b' },
      { userId: `${'x'.repeat(200)}1`, agentId: 'z' },
      { userId: `${'x'.repeat(200)}2`, agentId: 'z' },
    ];
    const names = new Set(ids.map((id) => naming.podName(id)));
    expect(names.size).toBe(ids.length);
  });

  it('hashes users apart for selectors', () => {
    expect(naming.userHash('alice')).not.toBe(naming.userHash('Alice'));
    expect(naming.userHash('alice')).toMatch(LABEL_VALUE);
    expect(stableHash(['a'], 10)).toHaveLength(10);
  });
});

describe('label values', () => {
  it.each(['alice', 'Alice@Example.com', 'ユーザー', 'x'.repeat(100), '-lead', 'a b c', '_'])(
    'are valid for %s',
    (value) => {
      const label = labelValue(value);
      expect(label.length).toBeLessThanOrEqual(63);
      expect(label).toMatch(LABEL_VALUE);
    },
  );

  it('keep valid values as they are', () => {
    expect(labelValue('user_42.a-b')).toBe('user_42.a-b');
  });

  it('slugs for humans', () => {
    expect(slug('Alice@Example.com', 30)).toBe('alice-example-com');
  });
});

describe('id validation', () => {
  it.each([
    ['empty', { userId: '', agentId: 'a' }],
    ['not a string', { userId: 42, agentId: 'a' }],
    ['too long', { userId: 'u'.repeat(254), agentId: 'a' }],
    ['control characters', { userId: 'a\nb', agentId: 'a' }],
    ['surrounding whitespace', { userId: 'a ', agentId: 'a' }],
    ['a lone surrogate', { userId: 'a\udc00', agentId: 'a' }],
  ])('rejects %s with a ValidationError', (_what, id) => {
    expect(() => validatePodId(id)).toThrow(ValidationError);
  });

  it('names the offending field', () => {
    try {
      validatePodId({ userId: 'ok', agentId: '' });
    } catch (error) {
      expect((error as ValidationError).issues[0]!.path).toBe('agentId');
    }
    expect(() => validatePodId(null)).toThrow(ValidationError);
    expect(() => validateUserId('')).toThrow(ValidationError);
  });

  it('accepts any other string unchanged', () => {
    expect(validatePodId({ userId: 'Ünïcode user 🙂', agentId: 'a/b:c' })).toEqual({
      userId: 'Ünïcode user 🙂',
      agentId: 'a/b:c',
    });
  });
});
