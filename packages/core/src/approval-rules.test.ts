import { describe, expect, it } from 'vitest';
import { compileApprovals, wildcardTest } from './approval-rules.js';

describe('wildcardTest: * any run (slashes too), ? one character, the whole value', () => {
  it.each([
    ['Bash', 'Bash', true],
    ['Bash', 'BashX', false],
    ['mcp__*', 'mcp__probe__nonce', true],
    ['mcp__*', 'xmcp__probe', false],
    ['*.env', '/srv/app/.env', true],
    ['*.env', '/srv/app/.env.local', false],
    ['git *', 'git status --short', true],
    ['git *', 'git', false],
    ['rm *', 'rm -rf /', true],
    ['?s', 'ls', true],
    ['?s', 'lls', false],
    ['a*b*c', 'a/x/b/y/c', true],
    ['a*b*c', 'a/x/c', false],
    ['(x).[y]+$', '(x).[y]+$', true],
    ['(x).*', '(x).anything', true],
    ['(x).*', '(x)Xanything', false],
    ['*', '', true],
    ['é?', 'é😀', true],
  ])('%s against %s → %s', (pattern, value, expected) => {
    expect(wildcardTest(pattern)(value)).toBe(expected);
  });
});

describe('compileApprovals', () => {
  it('takes the first matching rule, then the default (ask unless said)', () => {
    const decide = compileApprovals({
      rules: [
        { tool: 'Read', decision: 'allow' },
        { tool: 'Bash', input: { command: 'git status*' }, decision: 'allow' },
        { tool: 'Bash', input: { command: 'rm *' }, decision: 'deny' },
        { tool: 'Bash', decision: 'ask' },
        { tool: '*', decision: 'deny' },
      ],
    });
    expect(decide('Read', { file_path: '/etc/passwd' })).toBe('allow');
    expect(decide('Bash', { command: 'git status --short' })).toBe('allow');
    expect(decide('Bash', { command: 'rm -rf /' })).toBe('deny');
    expect(decide('Bash', { command: 'ls' })).toBe('ask');
    expect(decide('Write', {})).toBe('deny');
    expect(compileApprovals({})('Anything', {})).toBe('ask');
    expect(compileApprovals({ default: 'allow' })('Anything', {})).toBe('allow');
  });

  it('needs every input pattern to match; a missing field, an object or a non-object input never does', () => {
    const decide = compileApprovals({
      rules: [{ tool: 'Edit', input: { file_path: '*.env', mode: 'w?' }, decision: 'deny' }],
      default: 'allow',
    });
    expect(decide('Edit', { file_path: '/srv/app/.env', mode: 'wb' })).toBe('deny');
    expect(decide('Edit', { file_path: '/srv/app/.env' })).toBe('allow');
    expect(decide('Edit', { file_path: { nested: '.env' }, mode: 'wb' })).toBe('allow');
    expect(decide('Edit', 'file_path=.env')).toBe('allow');
    expect(decide('Edit', null)).toBe('allow');
    const numeric = compileApprovals({ rules: [{ tool: 'T', input: { n: '4?' }, decision: 'deny' }] });
    expect(numeric('T', { n: 42 })).toBe('deny');
    expect(numeric('T', { n: true })).toBe('ask');
  });
});
