import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { MAX_TIMEOUT_MS, validateRequest } from './request.js';

function codeOf(input: unknown): { code: string; paths: string[] } {
  try {
    validateRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    return { code: v.code, paths: v.issues.map((i) => i.path) };
  }
  throw new Error('expected a ValidationError');
}

describe('validateRequest', () => {
  it('accepts a full request and keeps every field', () => {
    const req = validateRequest({
      prompt: 'fix the tests',
      sessionId: 'ses_1',
      cwd: '/work',
      model: 'sonnet',
      systemPrompt: 'be brief',
      allowedTools: ['Bash', 'Read'],
      disallowedTools: ['WebFetch'],
      permissionMode: 'acceptEdits',
      maxTurns: 3,
      timeoutMs: 60_000,
      env: { FOO: 'bar' },
      attachments: [{ kind: 'image', data: 'aGVsbG8=', mimeType: 'image/png' }],
      metadata: { ticket: 42 },
    });
    expect(req.allowedTools).toEqual(['Bash', 'Read']);
    expect(req.metadata).toEqual({ ticket: 42 });
  });

  it.each([
    [{}, 'PROMPT_REQUIRED', 'prompt'],
    [{ prompt: '  \n ' }, 'PROMPT_REQUIRED', 'prompt'],
    [{ prompt: 'x', timeoutMs: 0 }, 'INVALID_TIMEOUT', 'timeoutMs'],
    [{ prompt: 'x', timeoutMs: 1.5 }, 'INVALID_TIMEOUT', 'timeoutMs'],
    [{ prompt: 'x', timeoutMs: MAX_TIMEOUT_MS + 1 }, 'INVALID_TIMEOUT', 'timeoutMs'],
    [{ prompt: 'x', maxTurns: -1 }, 'INVALID_MAX_TURNS', 'maxTurns'],
    [{ prompt: 'x', permissionMode: 'yolo' }, 'INVALID_PERMISSION_MODE', 'permissionMode'],
    [{ prompt: 'x', env: { 'BAD-NAME': '1' } }, 'INVALID_ENV', 'env.BAD-NAME'],
    [{ prompt: 'x', attachments: [{ kind: 'file' }] }, 'INVALID_ATTACHMENT', 'attachments.0'],
    [{ prompt: 'x', sessionId: '' }, 'INVALID_SESSION_ID', 'sessionId'],
  ])('rejects %j with %s', (input, code, path) => {
    const got = codeOf(input);
    expect(got.code).toBe(code);
    expect(got.paths).toContain(path);
  });

  it('names every field at fault, the first one in the code', () => {
    const got = codeOf({ prompt: '', timeoutMs: -1, maxTurns: 0 });
    expect(got.code).toBe('PROMPT_REQUIRED');
    expect(got.paths).toEqual(expect.arrayContaining(['prompt', 'timeoutMs', 'maxTurns']));
  });

  it('rejects what is not an object', () => {
    expect(codeOf('hello').code).toBe('INVALID_REQUEST');
    expect(codeOf(null).code).toBe('INVALID_REQUEST');
  });

  it('keeps prompts of any content intact', () => {
    const prompt = `-rf "quoted" \n$HOME \`x\` ${'é'.repeat(10)}`;
    expect(validateRequest({ prompt }).prompt).toBe(prompt);
  });
});
