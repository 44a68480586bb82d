import { z } from 'zod';
import { MAX_ID_LENGTH, REQUEST_ID } from './identifiers.js';
import * as S from './rest-schemas.js';
import { ATTACH_OPERATIONS } from '../attach/attach-openapi.js';
import { Live, OPS_OPERATIONS } from './ops-openapi.js';
import { AGENT_FILTER_QUERY, OPERATOR_OPERATIONS, RUN_FILTER_ERRORS, RUN_FILTER_QUERY } from './operator-openapi.js';

type Method = 'get' | 'post' | 'delete';

export interface Operation {
  summary: string;
  body?: z.ZodType;
  query?: Record<string, { schema: z.ZodType; description: string }>;
  /** The success status and its body (undefined: text/event-stream). */
  ok: [number, z.ZodType | undefined];
  /** Error statuses beyond the ones every authenticated route has (401, 404 for an unknown route, 429). */
  errors: Record<number, string>;
  /** Without an API key (`/healthz`). */
  open?: boolean;
  /** `ok` is JSON, or Server-Sent Events when the query asks to follow. */
  orStream?: boolean;
  /** A WebSocket upgrade: `ok` is 101 and this describes what the socket speaks. */
  upgrade?: string;
  /** The success body's content type when it is text, not JSON (`ok`'s schema undefined). Default text/event-stream. */
  text?: string;
  /** Error statuses whose body is not the Error shape: description and schema (health checks' 503). */
  errorBodies?: Record<number, [string, z.ZodType]>;
}

const BODY_ERRORS = {
  400:
    'Bad input: INVALID_JSON, INVALID_BODY, UNKNOWN_FIELD (with the closest known name), a field code, or ' +
    'INVALID_INPUT (a NUL or a lone surrogate in a string, which nothing can store)',
  408: 'BODY_TIMEOUT',
  413: 'BODY_TOO_LARGE (1 MiB)',
};
/** A reply for a run another replica executes is relayed to it through the database; these say it did not get there. */
const RELAY_ERRORS = {
  504:
    'REPLY_NOT_DELIVERED (the replica running the run did not take it in time; not delivered, send it again) or ' +
    'REPLY_NOT_CONFIRMED (it took it but did not confirm; read the run’s events)',
  503: 'SHUTTING_DOWN',
};
/**
 * The errors of a reply to a live run (a steer, a permission decision, an answer): a bad body or id (`invalid`),
 * nothing to reply to (`notFound`), a run that cannot take it (`conflict`), and the relay's.
 */
function replyErrors(invalid: string, notFound: string, conflict?: string): Record<number, string> {
  const errors: Record<number, string> = {
    ...BODY_ERRORS,
    400: `${BODY_ERRORS[400]}; ${invalid}`,
    404: notFound,
    ...RELAY_ERRORS,
  };
  if (conflict) errors[409] = conflict;
  return errors;
}
const AGENT_404 = { 404: 'AGENT_NOT_FOUND (also for another user’s agent)' };

/** The REST API, route by route: what the document is made of. Paths use OpenAPI's `{param}` form. */
const OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  '/healthz': {
    get: {
      summary: 'Liveness, the old name of /livez: the process answers and which backend it runs',
      ok: [200, S.Health],
      errors: {},
      errorBodies: { 503: ['The event loop is stalled (as /livez)', Live] },
      open: true,
    },
  },
  ...OPS_OPERATIONS,
  '/api/v1/openapi.json': {
    get: {
      summary: 'This document (no key needed)',
      ok: [200, z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) })],
      errors: {},
      open: true,
    },
  },
  '/api/v1/providers': {
    get: { summary: 'Providers agents can be created with, each probed', ok: [200, S.Providers], errors: {} },
  },
  '/api/v1/spend': {
    get: {
      summary: "The calling key's spend today (UTC), against its daily cap when it has one",
      ok: [200, S.KeySpendReply],
      errors: {},
    },
  },
  '/api/v1/agents': {
    post: {
      summary: 'Create an agent (capped per key), with run defaults each message may override',
      body: S.CreateAgentBody,
      ok: [201, S.Agent],
      errors: {
        ...BODY_ERRORS,
        400: `${BODY_ERRORS[400]}; the run defaults' codes as for a message (INVALID_BUDGET, MCP_COMMAND_REFUSED…); IMAGE_NOT_ALLOWED (an image not in FORGE_K8S_IMAGES)`,
        404: 'USER_NOT_FOUND, PROVIDER_NOT_FOUND',
        429: 'AGENT_LIMIT or RATE_LIMITED',
      },
    },
    get: {
      summary: "The key's user's agents, optionally by provider and state",
      query: AGENT_FILTER_QUERY,
      ok: [200, S.AgentList],
      errors: { 400: 'INVALID_PROVIDER, INVALID_STATE', 404: 'USER_NOT_FOUND' },
    },
  },
  '/api/v1/agents/{id}': {
    get: {
      summary: 'One agent; ?refresh=true asks the agent itself',
      query: { refresh: { schema: z.enum(['true', 'false']), description: 'Ask the agent (live_status).' } },
      ok: [200, S.Agent],
      errors: AGENT_404,
    },
    delete: {
      summary: 'Delete an agent, interrupting its run and dropping its queue',
      query: { graceful: { schema: z.enum(['true', 'false']), description: 'Let the agent drain first.' } },
      ok: [200, S.AgentDeleted],
      errors: AGENT_404,
    },
  },
  ...ATTACH_OPERATIONS,
  ...OPERATOR_OPERATIONS,
  '/api/v1/agents/{id}/messages': {
    post: {
      summary: 'Send a message: a run, started or queued (202)',
      body: S.MessageBody,
      ok: [202, S.MessageAccepted],
      errors: {
        ...BODY_ERRORS,
        400:
          `${BODY_ERRORS[400]}; MCP_COMMAND_REFUSED (an MCP server with a command), MCP_SERVER_UNKNOWN (not in the ` +
          'catalogue), MCP_URL_REFUSED (a private or loopback address), MCP_URL_INVALID, INVALID_ATTACHMENT, ' +
          'WEBHOOK_SECRET_INVALID (empty, under 16 characters, non-ASCII or spaced plain secret, bad whsec_ base64), ' +
          'WEBHOOK_URL_REQUIRED, INVALID_WEBHOOK_PAYLOAD',
        413:
          'PAYLOAD_TOO_LARGE (attachments over FORGE_MAX_ATTACHMENT_BYTES decoded, details.limit/size), ' +
          'BODY_TOO_LARGE (the body over the attachment cap’s base64 plus 1 MiB)',
        ...AGENT_404,
        409: 'AGENT_NOT_READY',
        429:
          'QUEUE_FULL, RATE_LIMITED, or BUDGET_EXHAUSTED (the key spent its daily cap; details.resets_at, spent, cap, ' +
          'and Retry-After until the next UTC midnight)',
      },
    },
  },
  '/api/v1/agents/{id}/interrupt': {
    post: {
      summary: 'Interrupt the live run (or one by ?request_id=); ?clear=true also drops the queue',
      query: {
        request_id: { schema: z.string(), description: 'Only this run.' },
        clear: { schema: z.enum(['true', 'false']), description: 'Also drop queued messages.' },
      },
      ok: [200, S.Interrupted],
      errors: { 400: 'INVALID_REQUEST_ID', ...AGENT_404, 409: 'NOT_RUNNING' },
    },
  },
  '/api/v1/agents/{id}/runs': {
    get: {
      summary: "The agent's runs, newest first, with their message, status, usage and cost",
      query: {
        limit: { schema: z.string().regex(/^\d+$/), description: '1 to 100, default 20.' },
        cursor: { schema: z.string().regex(/^\d{1,16}$/), description: 'next_cursor of the previous page.' },
        ...RUN_FILTER_QUERY,
      },
      ok: [200, S.RunList],
      errors: { 400: `INVALID_LIMIT, INVALID_CURSOR, ${RUN_FILTER_ERRORS}`, ...AGENT_404 },
    },
  },
  '/api/v1/agents/{id}/sessions': {
    get: {
      summary: "The agent's stored conversations: they outlive its work directory, pod or replica",
      ok: [200, S.SessionList],
      errors: { ...AGENT_404 },
    },
  },
  '/api/v1/agents/{id}/logs': {
    get: {
      summary:
        "The agent's log: its program's stderr (local), its pod's log (k8s), the remote agent's own lines " +
        '(dial-home). JSON `{ agent_id, lines }`; with follow=1, Server-Sent Events (one `data:` per line, the ' +
        'tail first) until the client goes',
      query: {
        tail: {
          schema: z.string().regex(/^\d+$/),
          description: 'The latest lines to start with: 0 to 5000, default 200.',
        },
        follow: { schema: z.enum(['1', 'true', '0', 'false']), description: 'Keep streaming new lines (SSE).' },
      },
      ok: [200, S.AgentLogs],
      orStream: true,
      errors: {
        400: 'INVALID_TAIL, INVALID_FOLLOW, UNKNOWN_PARAMETER',
        ...AGENT_404,
        409: 'LOGS_UNAVAILABLE (the backend keeps none)',
        503: 'AGENT_OFFLINE (a remote agent not connected to this replica), DEADLINE_EXCEEDED (it did not answer)',
      },
    },
  },
  '/api/v1/agents/{id}/runs/{request_id}': {
    get: {
      summary: 'One run, with what it waits for (pending) and its structured output',
      ok: [200, S.Run],
      errors: { 400: 'INVALID_REQUEST_ID', 404: 'AGENT_NOT_FOUND, REQUEST_NOT_FOUND' },
    },
    delete: {
      summary: 'Take a queued run off the queue',
      ok: [200, S.Run],
      errors: { 400: 'INVALID_REQUEST_ID', 404: 'AGENT_NOT_FOUND, REQUEST_NOT_FOUND', 409: 'RUN_NOT_QUEUED' },
    },
  },
  '/api/v1/agents/{id}/runs/{request_id}/steer': {
    post: {
      summary: 'Steer the running run: more text the agent reads while it works (run.steer)',
      body: S.SteerBody,
      ok: [200, S.SteerReply],
      errors: replyErrors(
        'INVALID_STEER_TEXT, INVALID_REQUEST_ID',
        'AGENT_NOT_FOUND, REQUEST_NOT_FOUND',
        'RUN_NOT_RUNNING (queued or ended), UNSUPPORTED (the provider cannot be steered)',
      ),
    },
  },
  '/api/v1/agents/{id}/permissions/{permission_id}': {
    post: {
      summary: 'Answer a permission.requested event',
      body: S.DecisionBody,
      ok: [200, S.DecisionReply],
      errors: replyErrors('INVALID_PERMISSION_ID', 'AGENT_NOT_FOUND, PERMISSION_NOT_FOUND (also for a second reply)'),
    },
  },
  '/api/v1/agents/{id}/questions/{question_id}': {
    post: {
      summary: 'Answer a question.requested event',
      body: S.AnswerBody,
      ok: [200, S.AnswerReply],
      errors: replyErrors(
        'INVALID_QUESTION_ID',
        'AGENT_NOT_FOUND, QUESTION_NOT_FOUND',
        'QUESTION_ANSWERED (a second answer while the run lives)',
      ),
    },
  },
  '/api/v1/agents/{id}/events': {
    get: {
      summary: "A run's events as Server-Sent Events (replayed from the journal, then live); Last-Event-ID resumes",
      query: {
        request_id: { schema: z.string(), description: 'Required: the run.' },
        last_event_id: { schema: z.string().regex(/^\d+$/), description: 'Resume after this seq.' },
      },
      ok: [200, undefined],
      errors: { 400: 'REQUEST_ID_REQUIRED, INVALID_REQUEST_ID', 404: 'AGENT_NOT_FOUND, REQUEST_NOT_FOUND' },
    },
  },
  '/api/v1/remote-agents': {
    get: { summary: 'Dial-home agents, online or not', ok: [200, S.RemoteAgentList], errors: {} },
  },
  '/api/v1/remote-agents/tokens': {
    post: {
      summary: 'Issue a single-use enrolment token and the command that joins an agent with it (admin keys)',
      body: S.EnrolmentTokenBody,
      ok: [201, S.EnrolmentTokenResponse],
      errors: { ...BODY_ERRORS, 403: 'ADMIN_REQUIRED', 409: 'REMOTE_AGENTS_DISABLED' },
    },
  },
  '/api/v1/remote-agents/{name}': {
    delete: {
      summary: 'Revoke a remote agent: its session ends now and its credential is refused (admin keys)',
      ok: [200, S.RemoteAgentRevoked],
      errors: { 400: 'INVALID_REMOTE_AGENT_NAME', 403: 'ADMIN_REQUIRED', 404: 'REMOTE_AGENT_NOT_FOUND' },
    },
  },
};

const COMMON_ERRORS: Record<number, string> = {
  400:
    'INVALID_PATH (a dot segment, plain or %2e-encoded, an empty segment, a slash or backslash inside a segment, ' +
    'or bad percent-encoding: the path is never resolved into another route)',
  401: 'UNAUTHENTICATED (no key, an unknown one, or an issued key revoked or expired)',
  429: 'RATE_LIMITED or TOO_MANY_AUTH_FAILURES (Retry-After)',
  500: 'INTERNAL_ERROR',
};

/** A zod schema as a JSON Schema 2020-12 object (OpenAPI 3.1's dialect), without its `$schema` line. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return rest;
}

const errorRef = { $ref: '#/components/schemas/Error' };

/** Path parameters with a shape of their own; any other is a string. */
const PATH_PARAMS: Record<string, Record<string, unknown>> = {
  request_id: { type: 'string', pattern: REQUEST_ID.source },
  permission_id: { type: 'string', maxLength: MAX_ID_LENGTH },
  question_id: { type: 'string', maxLength: MAX_ID_LENGTH },
};

function operation(path: string, method: Method, op: Operation): Record<string, unknown> {
  const pathParams = [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!);
  const parameters = [
    ...pathParams.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: PATH_PARAMS[name] ?? { type: 'string' },
    })),
    ...Object.entries(op.query ?? {}).map(([name, q]) => ({
      name,
      in: 'query',
      required: false,
      description: q.description,
      schema: jsonSchema(q.schema, 'input'),
    })),
  ];
  const [status, body] = op.ok;
  const errors: Record<number, string> = { ...(op.open ? {} : COMMON_ERRORS) };
  for (const [code, description] of Object.entries(op.errors))
    errors[Number(code)] = errors[Number(code)] ? `${description}; or ${errors[Number(code)]}` : description;
  const responses: Record<string, unknown> = {
    [status]: op.upgrade
      ? { description: op.upgrade }
      : {
          description: op.summary,
          content: body
            ? {
                'application/json': { schema: jsonSchema(body, 'output') },
                ...(op.orStream ? { 'text/event-stream': { schema: { type: 'string' } } } : {}),
              }
            : { [op.text ?? 'text/event-stream']: { schema: { type: 'string' } } },
        },
  };
  for (const [code, description] of Object.entries(errors))
    responses[code] = { description, content: { 'application/json': { schema: errorRef } } };
  for (const [code, [description, schema]] of Object.entries(op.errorBodies ?? {}))
    responses[code] = { description, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } };
  return {
    operationId: `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ?? '').toUpperCase())}`,
    summary: op.summary,
    ...(op.open ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: false, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** The platform's REST API as an OpenAPI 3.1 document, generated from the zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) paths[path][method] = operation(path, method as Method, op!);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Forge platform API',
      version: '1',
      description:
        'Agents per user, runs queued per agent, events over SSE or Standard Webhooks. Every error answers ' +
        '`{ "error": { "code", "message", "details"? } }` with a stable UPPER_SNAKE code.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: a bootstrap key (FORGE_API_KEYS) or one issued by POST /api/v1/api-keys.',
        },
      },
      schemas: { Error: jsonSchema(S.ErrorBody, 'output') },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}

/** Router paths (`/api/v1/agents/:id`) in OpenAPI's form (`/api/v1/agents/{id}`). */
export const openApiPath = (routerPath: string) => routerPath.replace(/:([a-z_]+)/g, '{$1}');
