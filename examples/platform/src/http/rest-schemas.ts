import { AgentRequestSchema, PERMISSION_DECISIONS, PermissionModeSchema } from '@forge/core';
import { z } from 'zod';

/**
 * The REST API's bodies as zod schemas: request bodies are validated with them (parseBody, or field by field
 * through core's AgentRequestSchema for a message), and the OpenAPI document is generated from them, so the
 * two cannot drift. Responses are described here too; the OpenAPI test checks real answers against them.
 */

const req = AgentRequestSchema.shape;
const nullable = <T extends z.ZodType>(s: T) => s.nullable().optional();

// ---- request bodies

/**
 * An MCP server a request may use: one of the operator's catalogue (FORGE_MCP_SERVERS) by `name` alone, or the
 * user's own over HTTP(S) by `url` (checked like a webhook URL: no private or loopback address). A `command` is
 * refused (MCP_COMMAND_REFUSED): a stdio server would be a process on the platform's host.
 */
export const McpServerRefBody = z.strictObject({
  name: z.string().trim().min(1).max(128),
  url: z.string().optional().describe('Your own MCP server (streamable HTTP, or SSE with transport "sse").'),
  headers: z.record(z.string(), z.string()).optional().describe('Sent to your URL server (e.g. Authorization).'),
  transport: z.enum(['http', 'sse']).optional(),
});

export const AttachmentBody = z.strictObject({
  kind: z.enum(['image', 'file']),
  data: z.string().describe('The content, base64 (standard alphabet, padded). A path is never accepted.'),
  mime_type: z.string().optional().describe('Required for an image: image/png, image/jpeg, …'),
  name: z.string().optional(),
});

/**
 * Settings of a run that an agent may hold as defaults (POST /api/v1/agents) and a message may override, field
 * by field. Nested objects keep the library's names (`maxCostUsd`, `afterMs`), as `result` does.
 */
export const RunSettingsFields = {
  mcp_servers: z.array(McpServerRefBody).optional().describe('MCP servers the agent may use in the run.'),
  output_schema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('A JSON Schema the final answer must satisfy; the checked answer is the run’s `output`.'),
  output_repairs: req.outputRepairs.optional().describe('How often a non-conforming answer is sent back. Default 1.'),
  effort: req.effort.describe('Reasoning effort, where the provider has the knob.'),
  approvals: req.approvals.describe('Rules deciding permission requests before you see them (library names).'),
  questions: req.questions.describe('What an unanswered question becomes.'),
  budget: req.budget.describe('Limits on the run’s cost, tokens and turns (maxCostUsd, maxTokens, maxTurns).'),
};

export const CreateAgentBody = z.strictObject({
  owner_id: nullable(z.string()).describe("Must be the key's own user when given."),
  provider: nullable(z.string()).describe('A provider from GET /api/v1/providers; default: the default provider.'),
  image: nullable(z.string()).describe(
    "k8s backend: an image name from the operator's FORGE_K8S_IMAGES; default FORGE_K8S_IMAGE. Else 400 IMAGE_NOT_ALLOWED.",
  ),
  // The agent's run defaults: each message may override any of them.
  ...RunSettingsFields,
});

/** The library's request fields under their REST names (same validators: core's AgentRequestSchema). */
export const MessageBody = z.strictObject({
  content: req.prompt.describe('The message (the library calls it prompt).'),
  session_id: nullable(z.string().trim().min(1)).describe('Continue this conversation (a run result sessionId).'),
  fork: req.fork.describe(
    'Continue session_id as a new conversation (a new session id); the original is left as it was.',
  ),
  model: req.model,
  permission_mode: PermissionModeSchema.optional(),
  allowed_tools: req.allowedTools,
  disallowed_tools: req.disallowedTools,
  max_turns: req.maxTurns,
  timeout_ms: req.timeoutMs,
  system_prompt: req.systemPrompt,
  ...RunSettingsFields,
  attachments: z
    .array(AttachmentBody)
    .optional()
    .describe('Images and files, inline; at most FORGE_MAX_ATTACHMENT_BYTES (5 MiB) decoded together, else 413.'),
  webhook_url: nullable(z.string()).describe('Standard Webhooks deliveries of the run’s events (https).'),
  webhook_secret: nullable(z.string()).describe(
    'whsec_<base64> (the key is the decoded bytes), a plain secret of 16 to 1024 printable ASCII characters (the raw HMAC key: verify in the Standard Webhooks libraries’ raw-key mode), or "generate" to have a whsec_ one made and returned once.',
  ),
  webhook_payload: nullable(z.enum(['forge', 'native'])).describe(
    '"native": each webhook also carries the provider’s own event (native_event, native_event_type) where the adapter read one. Default "forge".',
  ),
});

export const DecisionBody = z.strictObject({
  decision: z.enum(PERMISSION_DECISIONS as ['allow', 'allow_always', 'deny']),
  message: nullable(z.string()),
});

export const AnswerBody = z.strictObject({
  answers: z.array(z.array(z.string())).describe('One array of chosen labels (or typed text) per question.'),
});

export const SteerBody = z.strictObject({
  text: z
    .string()
    .refine((t) => t.trim().length > 0, 'must not be empty')
    .describe('More instructions for the running turn (run.steer): the agent reads them while it works.'),
});

/** `POST /api/v1/remote-agents/tokens`: both fields optional; an empty body is a token for any name, valid 1 h. */
export const EnrolmentTokenBody = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63')
    .optional()
    .describe('Bind the token to this agent name: the agent that enrols with it must use it.'),
  ttl_ms: z
    .number()
    .int()
    .min(60_000)
    .max(7 * 24 * 3_600_000)
    .optional()
    .describe('How long the token stays valid, in ms (1 min to 7 days). Default 1 h.'),
});

// ---- responses

export const EnrolmentTokenResponse = z.strictObject({
  token: z.string().describe('Single use; the agent sets it as FORGE_ENROLMENT_TOKEN on its first start.'),
  token_id: z.string(),
  expires_at: z.iso.datetime(),
  name: z.string().optional(),
  hub_url: z.string().describe('Where agents dial (FORGE_HUB_URL).'),
  join_command: z.string().describe('One line that starts examples/remote-agent on another machine with this token.'),
});

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .describe('Stable UPPER_SNAKE code.'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const AgentLogs = z.strictObject({ agent_id: z.string(), lines: z.array(z.string()) });
export const Health = z.strictObject({
  ok: z.literal(true),
  backend: z.string(),
  event_loop: z.looseObject({}).optional().describe('As /livez answers (when the platform has its health checks).'),
});

const iso = z.iso.datetime();

export const Agent = z.object({
  user_id: z.string(),
  agent_id: z.string(),
  provider: z.string(),
  pod_name: z.string().optional(),
  pod_ip: z.string().optional(),
  image: z.string().optional().describe('The FORGE_K8S_IMAGES name it was created with.'),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', 'Terminating', 'Idle']),
  ready: z.boolean(),
  state: z.enum(['ready', 'starting', 'gone']),
  created_at: iso,
  busy: z.boolean().optional(),
  queued: z.number().int().optional(),
  live_request_ids: z.array(z.string()).optional(),
  queued_request_ids: z.array(z.string()).optional(),
  live_status: z.record(z.string(), z.unknown()).optional().describe('With ?refresh=true: what the agent says.'),
  settings: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('The run defaults it was created with (approvals, budget, mcp_servers…), as given.'),
});

export const AgentList = z.strictObject({ agents: z.array(Agent) });

export const AgentDeleted = z.strictObject({
  agent_id: z.string(),
  deleted: z.literal(true),
  interrupted_request_ids: z.array(z.string()),
});

export const MessageAccepted = z.strictObject({
  request_id: z.string(),
  agent_id: z.string(),
  status: z.enum(['queued', 'running']),
  queued_ahead: z.number().int().optional(),
  events_url: z.string(),
  run_url: z.string(),
  webhook_secret: z.string().optional().describe('Only when webhook_secret was "generate".'),
});

const RunStatus = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'timed_out']);

export const Run = z.strictObject({
  request_id: z.string(),
  agent_id: z.string(),
  status: RunStatus,
  content: z.string().optional().describe('The message that started the run.'),
  session_id: z.string().optional().describe('The conversation the message continued, when it named one.'),
  event_count: z.number().int(),
  created_at: iso,
  started_at: iso.optional(),
  finished_at: iso.optional(),
  result: z
    .looseObject({
      status: z.string(),
      text: z.string(),
      sessionId: z.string().optional(),
      usage: z.looseObject({ inputTokens: z.number(), outputTokens: z.number() }),
      costUsd: z.number().optional(),
      durationMs: z.number(),
      turns: z.number(),
    })
    .optional()
    .describe('The run.completed result, once finished.'),
  error: z.record(z.string(), z.unknown()).optional(),
  pending: z
    .array(
      z.looseObject({
        type: z.enum(['permission.requested', 'question.requested']),
        id: z.string(),
        seq: z.number().int(),
      }),
    )
    .optional()
    .describe('GET of one run: the permission requests and questions it waits on now, as the events that asked.'),
  output: z.unknown().optional().describe('The structured answer, checked against the message’s output_schema.'),
  files_changed: z
    .array(z.looseObject({ path: z.string(), change: z.string(), oldPath: z.string().optional() }))
    .optional()
    .describe('Every file the run changed, once per path.'),
});

export const RunList = z.strictObject({
  agent_id: z.string(),
  runs: z.array(Run).describe('Newest first.'),
  next_cursor: z.string().optional().describe('Pass as ?cursor= for the next (older) page.'),
});

export const SessionList = z.strictObject({
  agent_id: z.string(),
  sessions: z
    .array(
      z.strictObject({
        session_id: z.string().describe('Pass as session_id to continue it (with fork: true, as a new one).'),
        provider: z.string(),
        title: z.string().optional().describe('Its first prompt.'),
        created_at: z.string(),
        updated_at: z.string(),
        size: z.number().int().describe('Bytes stored.'),
      }),
    )
    .describe("The stored conversations the agent's runs started or continued, newest first (at most 100)."),
});

export const Interrupted = z.strictObject({
  agent_id: z.string(),
  interrupted: z.array(z.strictObject({ request_id: z.string(), status: RunStatus })),
});

export const DecisionReply = z.strictObject({
  agent_id: z.string(),
  request_id: z.string(),
  permission_id: z.string(),
  decision: DecisionBody.shape.decision,
});

export const AnswerReply = z.strictObject({
  agent_id: z.string(),
  request_id: z.string(),
  question_id: z.string(),
  answers: AnswerBody.shape.answers,
});

export const SteerReply = z.strictObject({
  agent_id: z.string(),
  request_id: z.string(),
  steered: z.literal(true),
});

const SpendFigures = z.strictObject({ cost_usd: z.number().optional(), tokens: z.number().optional() });

export const KeySpendReply = z.strictObject({
  day: z.string().describe('The UTC day counted (YYYY-MM-DD).'),
  spent: SpendFigures.describe('What the key spent that day, across every replica.'),
  cap: SpendFigures.optional().describe('Its daily cap, when its key entry has one.'),
  resets_at: iso.describe('The next UTC midnight.'),
});

export const Providers = z.strictObject({
  default_provider: z.string(),
  providers: z.array(
    z.strictObject({
      name: z.string(),
      available: z.boolean(),
      reason: z.string().optional(),
      version: z.string().optional(),
      capabilities: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

const RemoteAgent = z.strictObject({
  id: z.string(),
  name: z.string(),
  status: z.enum(['online', 'offline']),
  provider: z.string().optional(),
  version: z.string().optional(),
  last_seen: iso.optional(),
  enrolled_at: iso,
  runs_in_flight: z.number().int(),
});

export const RemoteAgentList = z.strictObject({ enabled: z.boolean(), agents: z.array(RemoteAgent) });

export const RemoteAgentRevoked = z.strictObject({ revoked: z.literal(true), agent: RemoteAgent });
