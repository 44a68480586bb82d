import { z } from 'zod';
import { closestName } from './closest-name.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { MAX_TIMEOUT_MS } from './limits.js';
import { MCP_SERVER_FIELDS, McpServersSchema } from './mcp-server.js';
import { NUL_MESSAGE, noNul } from './no-nul.js';
import { OutputRepairsSchema, OutputSchemaSchema } from './output-schema.js';
import { ApprovalsSchema, BudgetSchema, EffortSchema, NESTED_FIELDS, QuestionsPolicySchema } from './run-policies.js';

export { MAX_TIMEOUT_MS };

/**
 * The longest system prompt, in UTF-8 bytes. Adapters pass it to a CLI as one argument, and Linux refuses any
 * single argument over 128 KiB (MAX_ARG_STRLEN) at spawn; 100 KiB leaves room and fails early, as bad input.
 */
export const MAX_SYSTEM_PROMPT_BYTES = 100 * 1024;

// Three bytes per UTF-16 unit at most, so the encoder only runs for prompts near the cap.
const withinPromptCap = (s: string) =>
  s.length * 3 <= MAX_SYSTEM_PROMPT_BYTES || new TextEncoder().encode(s).length <= MAX_SYSTEM_PROMPT_BYTES;

export const PermissionModeSchema = z.enum(['default', 'acceptEdits', 'bypassPermissions', 'plan']);
export type PermissionMode = z.infer<typeof PermissionModeSchema>;

export const AttachmentSchema = z
  .strictObject({
    kind: z.enum(['file', 'image']),
    /** Path on the machine (or pod) where the agent runs. */
    path: z.string().min(1).refine(noNul, NUL_MESSAGE).optional(),
    /** Inline content, base64-encoded. */
    data: z.string().min(1).optional(),
    mimeType: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
  })
  .refine((a) => a.path !== undefined || a.data !== undefined, {
    message: 'an attachment needs a path or inline data',
  });
export type Attachment = z.infer<typeof AttachmentSchema>;

const toolList = z.array(z.string().trim().min(1).refine(noNul, NUL_MESSAGE));

/** Unknown fields are errors (`timeout` is not `timeoutMs`), reported as UNKNOWN_FIELD with the closest known name. */
export const AgentRequestSchema = z
  .strictObject({
    prompt: z.string().refine((p) => p.trim().length > 0, { message: 'prompt must not be empty' }),
    sessionId: z.string().trim().min(1).refine(noNul, NUL_MESSAGE).optional(),
    cwd: z.string().min(1).refine(noNul, NUL_MESSAGE).optional(),
    model: z.string().trim().min(1).refine(noNul, NUL_MESSAGE).optional(),
    systemPrompt: z
      .string()
      .refine(noNul, NUL_MESSAGE)
      .refine(withinPromptCap, {
        message: `must be at most ${MAX_SYSTEM_PROMPT_BYTES} bytes (UTF-8)`,
      })
      .optional(),
    allowedTools: toolList.optional(),
    disallowedTools: toolList.optional(),
    permissionMode: PermissionModeSchema.optional(),
    maxTurns: z.number().int().positive().max(10_000).optional(),
    timeoutMs: z.number().int().positive().max(MAX_TIMEOUT_MS).optional(),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name'),
        z.string().refine(noNul, NUL_MESSAGE),
      )
      .optional(),
    attachments: z.array(AttachmentSchema).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    /** MCP servers the agent may use during this run, besides its own. */
    mcpServers: McpServersSchema.optional(),
    /** A JSON Schema the final answer must satisfy; the parsed answer is `AgentResult.output`. */
    outputSchema: OutputSchemaSchema.optional(),
    /** How many times an answer that does not fit `outputSchema` is sent back for repair. Default 1. */
    outputRepairs: OutputRepairsSchema.optional(),
    /** How hard the model thinks (reasoning effort), where the provider has such a knob. */
    effort: EffortSchema.optional(),
    /** Rules deciding permission requests, the default for the rest, and what an unanswered one becomes. */
    approvals: ApprovalsSchema.optional(),
    /** What an unanswered question becomes. */
    questions: QuestionsPolicySchema.optional(),
    /** Limits on cost, tokens and turns for this run. */
    budget: BudgetSchema.optional(),
    /** Continue `sessionId` in a new session of its own, leaving the original as it was. */
    fork: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.fork && r.sessionId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['fork'], message: 'fork needs a sessionId to fork from' });
    }
    if (r.outputRepairs !== undefined && r.outputSchema === undefined) {
      ctx.addIssue({ code: 'custom', path: ['outputRepairs'], message: 'outputRepairs needs an outputSchema' });
    }
  });

export type AgentRequest = z.infer<typeof AgentRequestSchema>;
/** What a caller may pass: the same shape, before validation. */
export type AgentRequestInput = z.input<typeof AgentRequestSchema>;

const CODE_BY_FIELD: Record<string, string> = {
  prompt: 'PROMPT_REQUIRED',
  sessionId: 'INVALID_SESSION_ID',
  cwd: 'INVALID_CWD',
  model: 'INVALID_MODEL',
  systemPrompt: 'INVALID_SYSTEM_PROMPT',
  allowedTools: 'INVALID_TOOLS',
  disallowedTools: 'INVALID_TOOLS',
  permissionMode: 'INVALID_PERMISSION_MODE',
  maxTurns: 'INVALID_MAX_TURNS',
  timeoutMs: 'INVALID_TIMEOUT',
  env: 'INVALID_ENV',
  attachments: 'INVALID_ATTACHMENT',
  metadata: 'INVALID_METADATA',
  mcpServers: 'INVALID_MCP_SERVERS',
  outputSchema: 'INVALID_OUTPUT_SCHEMA',
  outputRepairs: 'INVALID_OUTPUT_REPAIRS',
  effort: 'INVALID_EFFORT',
  approvals: 'INVALID_APPROVALS',
  questions: 'INVALID_QUESTIONS',
  budget: 'INVALID_BUDGET',
  fork: 'INVALID_FORK',
};

function issueCode(path: PropertyKey[]): string {
  const head = path[0];
  return (typeof head === 'string' && CODE_BY_FIELD[head]) || 'INVALID_REQUEST';
}

/**
 * Validates and normalises a request. Throws a ValidationError whose `code` names the first
 * problem (`PROMPT_REQUIRED`, `INVALID_TIMEOUT`, …) and whose `issues` list every field at fault.
 */
export function validateRequest(input: unknown): AgentRequest {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('INVALID_REQUEST', 'A request must be an object with a prompt', [
      { path: '', code: 'INVALID_REQUEST', message: 'expected an object' },
    ]);
  }
  const parsed = AgentRequestSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues: ValidationIssue[] = parsed.error.issues.flatMap((i): ValidationIssue[] => {
    if (i.code === 'unrecognized_keys') return unknownFieldIssues(i.path, i.keys);
    return [{ path: i.path.map(String).join('.'), code: issueCode(i.path), message: i.message }];
  });
  // An unknown field is named first: it usually explains the rest (a misspelt field is also a missing one).
  issues.sort((a, b) => Number(b.code === 'UNKNOWN_FIELD') - Number(a.code === 'UNKNOWN_FIELD'));
  const first = issues[0]!;
  const summary = issues.map((i) => `${i.path || '(request)'}: ${i.message}`).join('; ');
  return throwValidation(first.code, `Invalid agent request: ${summary}`, issues);
}

const REQUEST_FIELDS = Object.keys(AgentRequestSchema.shape);
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': REQUEST_FIELDS,
  'attachments.*': ['kind', 'path', 'data', 'mimeType', 'name'],
  'mcpServers.*': MCP_SERVER_FIELDS,
  ...NESTED_FIELDS,
};

function unknownFieldIssues(at: PropertyKey[], keys: string[]): ValidationIssue[] {
  const where = at.map((p) => (typeof p === 'number' ? '*' : String(p))).join('.');
  const known = KNOWN_FIELDS[where] ?? [];
  return keys.map((key) => {
    const guess = closestName(key, known);
    return {
      path: [...at.map(String), key].join('.'),
      code: 'UNKNOWN_FIELD',
      message: `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''}`,
    };
  });
}

function throwValidation(code: string, message: string, issues: ValidationIssue[]): never {
  throw new ValidationError(code, message, issues);
}
