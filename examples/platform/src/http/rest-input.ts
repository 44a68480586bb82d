import {
  PERMISSION_DECISIONS,
  ValidationError,
  validateRequest,
  type AgentRequest,
  type PermissionDecision,
  type ValidationIssue,
} from '@forge/core';
import { closestName } from '@forge/core/internal';
import { generateWebhookSecret, webhookSecretKey } from '../webhooks/index.js';
import { optionalString } from './io.js';
import { z } from 'zod';
import { refuseMcpCommands, type McpServerRef } from '../mcp-catalog.js';
import { DEFAULT_MAX_ATTACHMENT_BYTES, parseAttachments } from './rest-attachments.js';
import { DecisionBody, McpServerRefBody, MessageBody } from './rest-schemas.js';
import { refuseBadText } from './text-input.js';

/**
 * The REST API's names for the request fields it accepts, and the library's. A message has no `cwd`, `env` or
 * `metadata`: the agent's workspace is its own and the platform does not pass them through. `mcp_servers` and
 * `attachments` are read apart (mcp-catalog.ts, rest-attachments.ts): they are not the library's shape.
 */
const MESSAGE_FIELDS = {
  content: 'prompt',
  session_id: 'sessionId',
  fork: 'fork',
  model: 'model',
  permission_mode: 'permissionMode',
  allowed_tools: 'allowedTools',
  disallowed_tools: 'disallowedTools',
  max_turns: 'maxTurns',
  timeout_ms: 'timeoutMs',
  system_prompt: 'systemPrompt',
  output_schema: 'outputSchema',
  output_repairs: 'outputRepairs',
  effort: 'effort',
  approvals: 'approvals',
  questions: 'questions',
  budget: 'budget',
} as const satisfies Record<string, keyof AgentRequest>;

const REST_NAME: Record<string, string> = Object.fromEntries(
  Object.entries(MESSAGE_FIELDS).map(([rest, library]) => [library, rest]),
);

const LIBRARY_NAMES = new RegExp(`\\b(${Object.keys(REST_NAME).join('|')})\\b`, 'g');

/** A path or message in the REST names: `timeoutMs` → `timeout_ms`, `prompt` → `content`. */
export const restNames = (text: string) => text.replace(LIBRARY_NAMES, (name) => REST_NAME[name] ?? name);

/**
 * Refuses fields the endpoint does not know: a ValidationError UNKNOWN_FIELD listing each, with the closest known
 * name. `aliases` maps other spellings people reach for (the library's `timeoutMs`) to the name meant here.
 */
export function checkFields(
  body: Record<string, unknown>,
  known: readonly string[],
  aliases: Record<string, string> = {},
): void {
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (!unknown.length) return;
  const issues: ValidationIssue[] = unknown.map((key) => {
    const near = closestName(key, [...known, ...Object.keys(aliases)]);
    const guess = near === undefined ? undefined : (aliases[near] ?? near);
    return {
      path: key,
      code: 'UNKNOWN_FIELD',
      message: `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''}`,
    };
  });
  throw new ValidationError('UNKNOWN_FIELD', issues.map((i) => i.message).join('; '), issues);
}

/** Codes for a message's ids and names, as core gives them; free text (`content`, `system_prompt`) is INVALID_INPUT. */
const TEXT_CODES: Record<string, string> = {
  session_id: 'INVALID_SESSION_ID',
  model: 'INVALID_MODEL',
  allowed_tools: 'INVALID_TOOLS',
  disallowed_tools: 'INVALID_TOOLS',
};

export interface MessageInput {
  request: AgentRequest;
  /** The MCP servers named, still to be resolved against the catalogue and the SSRF guard. */
  mcpServers?: McpServerRef[];
  webhook?: { url: string; secret?: string; payload?: 'native' };
  /** Set when `webhook_secret` was "generate": the secret made for this run. */
  generatedSecret?: string;
}

const GENERATE_SECRET = 'generate';

/** A `POST …/messages` body, checked in full before anything else is asked (the agent, whether it is busy). */
export function parseMessage(
  body: Record<string, unknown>,
  maxAttachmentBytes = DEFAULT_MAX_ATTACHMENT_BYTES,
): MessageInput {
  checkFields(body, Object.keys(MessageBody.shape), REST_NAME);
  const mcpServers = parseMcpRefs(body.mcp_servers);
  const input: Record<string, unknown> = {};
  const attachments = parseAttachments(body.attachments, maxAttachmentBytes);
  if (attachments) input.attachments = attachments;
  for (const [rest, library] of Object.entries(MESSAGE_FIELDS)) {
    const value = body[rest];
    // null reads as absent, as it always has for session_id.
    if (value !== undefined && (value !== null || rest === 'content')) input[library] = value;
  }
  let request: AgentRequest;
  try {
    request = validateRequest(input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issues = error.issues.map((i) => ({ ...i, path: restNames(i.path), message: restNames(i.message) }));
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ValidationError(error.code, `Invalid message: ${summary}`, issues);
  }
  // After core's checks, which give a NUL in an id its field's code; what is left (a NUL in content, a lone
  // surrogate anywhere) could not be stored, so it is refused here rather than failing in the database.
  refuseBadText(body, TEXT_CODES);
  const url = optionalString(body, 'webhook_url');
  const given = optionalString(body, 'webhook_secret');
  const payload = parseWebhookPayload(body.webhook_payload);
  for (const [field, value] of [
    ['webhook_secret', given],
    ['webhook_payload', payload],
  ] as const) {
    if (value === undefined || url !== undefined) continue;
    const message = `${field} needs a webhook_url`;
    throw new ValidationError('WEBHOOK_URL_REQUIRED', message, [
      { path: 'webhook_url', code: 'WEBHOOK_URL_REQUIRED', message },
    ]);
  }
  // "generate": the platform makes one and returns it in the 202 only.
  const generatedSecret = given === GENERATE_SECRET ? generateWebhookSecret() : undefined;
  const secret = generatedSecret ?? given;
  // Refused here (WEBHOOK_SECRET_INVALID), before any work: '' or a short or non-ASCII plain secret would
  // leave the receiver unable to verify with a Standard Webhooks library.
  if (secret !== undefined) webhookSecretKey(secret);
  const hook = url === undefined ? undefined : { url, ...(secret !== undefined ? { secret } : {}) };
  return {
    request,
    ...(mcpServers ? { mcpServers } : {}),
    ...(hook ? { webhook: payload === 'native' ? { ...hook, payload } : hook } : {}),
    ...(generatedSecret !== undefined ? { generatedSecret } : {}),
  };
}

/** `webhook_payload`: "forge" (the default, absent as null) or "native". */
function parseWebhookPayload(value: unknown): 'forge' | 'native' | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'forge' || value === 'native') return value;
  const message = 'webhook_payload must be "forge" or "native"';
  throw new ValidationError('INVALID_WEBHOOK_PAYLOAD', message, [
    { path: 'webhook_payload', code: 'INVALID_WEBHOOK_PAYLOAD', message },
  ]);
}

/** `mcp_servers` as the user wrote them: a command anywhere is refused first, whatever else is wrong. */
export function parseMcpRefs(value: unknown): McpServerRef[] | undefined {
  if (value === undefined || value === null) return undefined;
  refuseMcpCommands(value);
  const parsed = z.array(McpServerRefBody).safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => {
    const path = ['mcp_servers', ...i.path.map(String)].join('.');
    const code = i.code === 'unrecognized_keys' ? 'UNKNOWN_FIELD' : 'INVALID_MCP_SERVERS';
    return { path, code, message: `${path}: ${i.message}` };
  });
  throw new ValidationError(issues[0]!.code, issues.map((i) => i.message).join('; '), issues);
}

/** A permission reply's body: `decision` one of the three, an optional `message`. */
export function parseDecision(body: Record<string, unknown>): { decision: PermissionDecision; message?: string } {
  checkFields(body, Object.keys(DecisionBody.shape));
  const decision = body.decision;
  if (!DecisionBody.shape.decision.safeParse(decision).success) {
    // Described, never echoed whole: the value may be huge or nested thousands deep.
    const got =
      typeof decision === 'string'
        ? `"${decision.slice(0, 40)}${decision.length > 40 ? '…' : ''}"`
        : decision === null
          ? 'null'
          : Array.isArray(decision)
            ? 'an array'
            : `a value of type ${typeof decision}`;
    const message = `decision must be one of ${PERMISSION_DECISIONS.join(', ')}; got ${got}`;
    throw new ValidationError('INVALID_DECISION', message, [{ path: 'decision', code: 'INVALID_DECISION', message }]);
  }
  const message = optionalString(body, 'message');
  refuseBadText(body);
  return { decision: decision as PermissionDecision, ...(message !== undefined ? { message } : {}) };
}
