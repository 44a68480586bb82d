import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from './closest-name.js';

describe('closestName', () => {
  const known = ['prompt', 'timeoutMs', 'allowedTools', 'disallowedTools', 'systemPrompt', 'cwd'];
  it.each([
    ['timeout', 'timeoutMs'],
    ['alowedTools', 'allowedTools'],
    ['allowedtools', 'allowedTools'],
    ['promtp', 'prompt'],
    ['system_prompt', 'systemPrompt'],
  ])('%s → %s', (name, expected) => {
    expect(closestName(name, known)).toBe(expected);
  });

  it('offers nothing for an unrelated name', () => {
    expect(closestName('foo', known)).toBeUndefined();
    expect(closestName('banana', known)).toBeUndefined();
  });

  it('counts edits, swaps included', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
