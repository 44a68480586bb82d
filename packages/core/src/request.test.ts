import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { MAX_SYSTEM_PROMPT_BYTES, MAX_TIMEOUT_MS, validateRequest } from './request.js';

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

function issuesOf(input: unknown): ValidationError {
  try {
    validateRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('validateRequest: unknown fields are errors', () => {
  it.each([
    [{ prompt: 'x', timeout: 5 }, 'timeout', 'timeoutMs'],
    [{ prompt: 'x', alowedTools: ['Read'] }, 'alowedTools', 'allowedTools'],
    [{ prompt: 'x', SystemPrompt: 'hi' }, 'SystemPrompt', 'systemPrompt'],
    [
      { prompt: 'x', attachments: [{ kind: 'file', path: '/a', mimetype: 'text/plain' }] },
      'attachments.0.mimetype',
      'mimeType',
    ],
  ])('%j names the field and the closest known one', (input, path, suggestion) => {
    const error = issuesOf(input);
    expect(error.code).toBe('UNKNOWN_FIELD');
    const issue = error.issues.find((i) => i.path === path);
    expect(issue).toMatchObject({ code: 'UNKNOWN_FIELD' });
    expect(issue?.message).toContain(`did you mean "${suggestion}"`);
    expect(error.message).toContain(path);
  });

  it('offers no suggestion when nothing is close', () => {
    const error = issuesOf({ prompt: 'x', qqqqqq: 1 });
    expect(error.code).toBe('UNKNOWN_FIELD');
    expect(error.issues[0]).toMatchObject({ path: 'qqqqqq', code: 'UNKNOWN_FIELD' });
    expect(error.issues[0]!.message).not.toContain('did you mean');
  });

  it('reports an unknown field even when the known ones are also wrong', () => {
    const error = issuesOf({ prompt: '', timeout: 5 });
    expect(error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['prompt', 'timeout']));
  });

  it('leaves metadata open: it is the caller’s own', () => {
    expect(validateRequest({ prompt: 'x', metadata: { anything: { goes: 1 } } }).metadata).toEqual({
      anything: { goes: 1 },
    });
  });
});

describe('validateRequest: what cannot reach a process is bad input', () => {
  it.each([
    [{ prompt: 'x', systemPrompt: 'a\u0000b' }, 'INVALID_SYSTEM_PROMPT', 'systemPrompt'],
    [{ prompt: 'x', model: 'son\u0000net' }, 'INVALID_MODEL', 'model'],
    [{ prompt: 'x', sessionId: 'ses\u0000' }, 'INVALID_SESSION_ID', 'sessionId'],
    [{ prompt: 'x', allowedTools: ['Read', 'Ba\u0000sh'] }, 'INVALID_TOOLS', 'allowedTools.1'],
    [{ prompt: 'x', disallowedTools: ['\u0000'] }, 'INVALID_TOOLS', 'disallowedTools.0'],
    [{ prompt: 'x', cwd: '/tmp\u0000/x' }, 'INVALID_CWD', 'cwd'],
    [{ prompt: 'x', env: { FOO: 'a\u0000b' } }, 'INVALID_ENV', 'env.FOO'],
  ])('a NUL byte in %j is %s', (input, code, path) => {
    const error = issuesOf(input);
    expect(error.code).toBe(code);
    const issue = error.issues.find((i) => i.path === path);
    expect(issue?.message).toContain('NUL');
  });

  it(`caps the system prompt at ${MAX_SYSTEM_PROMPT_BYTES} bytes (one argv string must stay under 128 KiB)`, () => {
    expect(
      validateRequest({ prompt: 'x', systemPrompt: 'a'.repeat(MAX_SYSTEM_PROMPT_BYTES) }).systemPrompt,
    ).toHaveLength(MAX_SYSTEM_PROMPT_BYTES);
    const error = issuesOf({ prompt: 'x', systemPrompt: 'a'.repeat(200 * 1024) });
    expect(error.code).toBe('INVALID_SYSTEM_PROMPT');
    // Bytes, not characters: 40,000 × 3-byte characters is 120,000 bytes.
    expect(issuesOf({ prompt: 'x', systemPrompt: '€'.repeat(40_000) }).code).toBe('INVALID_SYSTEM_PROMPT');
  });
});

describe('validateRequest: the fields hosts ask for', () => {
  it('accepts each new field and keeps it', () => {
    const req = validateRequest({
      prompt: 'x',
      sessionId: 'ses_1',
      fork: true,
      mcpServers: [
        { name: 'files', command: 'mcp-files', args: ['--root', '/w'], env: { TOKEN: 't' } },
        { name: 'docs', url: 'https://mcp.example/sse', headers: { Authorization: 'Bearer x' }, transport: 'sse' },
      ],
      outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      outputRepairs: 2,
      effort: 'high',
      approvals: {
        rules: [{ tool: 'Bash', input: { command: 'git *' }, decision: 'allow' }],
        default: 'ask',
        unanswered: { afterMs: 60_000, decision: 'deny' },
      },
      questions: { unanswered: { afterMs: 30_000, action: 'fail' } },
      budget: { maxCostUsd: 1.5, maxTokens: 100_000, maxTurns: 20 },
    });
    expect(req.mcpServers).toHaveLength(2);
    expect(req.outputSchema).toMatchObject({ type: 'object' });
    expect(req.approvals?.rules?.[0]?.decision).toBe('allow');
    expect(req.fork).toBe(true);
  });

  it('turns a zod outputSchema into JSON Schema with zod itself', () => {
    const req = validateRequest({ prompt: 'x', outputSchema: z.object({ ok: z.boolean() }) });
    expect(req.outputSchema).toMatchObject({ type: 'object', properties: { ok: { type: 'boolean' } } });
    expect(JSON.parse(JSON.stringify(req.outputSchema))).toEqual(req.outputSchema);
  });

  it.each([
    [{ mcpServers: [{ name: 'a' }] }, 'INVALID_MCP_SERVERS', 'mcpServers.0'],
    [{ mcpServers: [{ name: 'a', command: 'x', url: 'http://h' }] }, 'INVALID_MCP_SERVERS', 'mcpServers.0'],
    [{ mcpServers: [{ name: 'a', command: 'x', headers: {} }] }, 'INVALID_MCP_SERVERS', 'mcpServers.0.headers'],
    [{ mcpServers: [{ name: 'a', url: 'file:///etc/passwd' }] }, 'INVALID_MCP_SERVERS', 'mcpServers.0.url'],
    [{ mcpServers: [{ name: 'a\u0000', command: 'x' }] }, 'INVALID_MCP_SERVERS', 'mcpServers.0.name'],
    [
      {
        mcpServers: [
          { name: 'a', command: 'x' },
          { name: 'a', command: 'y' },
        ],
      },
      'INVALID_MCP_SERVERS',
      'mcpServers.1.name',
    ],
    [{ outputSchema: 'object' }, 'INVALID_OUTPUT_SCHEMA', 'outputSchema'],
    [{ outputSchema: [] }, 'INVALID_OUTPUT_SCHEMA', 'outputSchema'],
    [{ outputSchema: { type: 'object', f: () => 1 } }, 'INVALID_OUTPUT_SCHEMA', 'outputSchema'],
    [{ outputSchema: {}, outputRepairs: 6 }, 'INVALID_OUTPUT_REPAIRS', 'outputRepairs'],
    [{ outputRepairs: 1 }, 'INVALID_OUTPUT_REPAIRS', 'outputRepairs'],
    [{ effort: 'max' }, 'INVALID_EFFORT', 'effort'],
    [
      { approvals: { rules: [{ tool: 'Bash', decision: 'maybe' }] } },
      'INVALID_APPROVALS',
      'approvals.rules.0.decision',
    ],
    [
      { approvals: { unanswered: { afterMs: 0, decision: 'deny' } } },
      'INVALID_APPROVALS',
      'approvals.unanswered.afterMs',
    ],
    [
      { questions: { unanswered: { afterMs: 10, action: 'deny' } } },
      'INVALID_QUESTIONS',
      'questions.unanswered.action',
    ],
    [{ budget: {} }, 'INVALID_BUDGET', 'budget'],
    [{ budget: { maxCostUsd: -1 } }, 'INVALID_BUDGET', 'budget.maxCostUsd'],
    [{ fork: true }, 'INVALID_FORK', 'fork'],
    [{ fork: 'yes', sessionId: 's' }, 'INVALID_FORK', 'fork'],
  ])('rejects %j with %s', (fields, code, path) => {
    const got = codeOf({ prompt: 'x', ...fields });
    expect(got.code).toBe(code);
    expect(got.paths).toContain(path);
  });

  it.each([
    [{ mcpServers: [{ name: 'a', comand: 'x' }] }, 'mcpServers.0.comand', 'command'],
    [{ approvals: { rule: [] } }, 'approvals.rule', 'rules'],
    [{ approvals: { rules: [{ tool: 'x', decison: 'allow' }] } }, 'approvals.rules.0.decison', 'decision'],
    [{ approvals: { unanswered: { afterMS: 1, decision: 'deny' } } }, 'approvals.unanswered.afterMS', 'afterMs'],
    [{ questions: { unanswerd: {} } }, 'questions.unanswerd', 'unanswered'],
    [{ budget: { maxCost: 1 } }, 'budget.maxCost', 'maxCostUsd'],
    [{ outputShema: {} }, 'outputShema', 'outputSchema'],
  ])('names an unknown nested field with the closest known one: %j', (fields, path, guess) => {
    const error = issuesOf({ prompt: 'x', ...fields });
    expect(error.code).toBe('UNKNOWN_FIELD');
    const issue = error.issues.find((i) => i.path === path);
    expect(issue?.message).toContain(`did you mean "${guess}"`);
  });
});
