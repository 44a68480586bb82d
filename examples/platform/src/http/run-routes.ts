import type { AgentRequestInput } from '@forge/core';
import { ApiError } from '../api-error.js';
import { agentState, type AgentBackend } from '../backends/backend.js';
import type { RunManager } from '../run-manager.js';
import { agentOf, reply, type ApiContext } from './context.js';
import { optionalString, readJson, readObject } from './io.js';
import type { Router } from './router.js';
import { generateWebhookSecret, webhookSecretKey } from '../webhooks/index.js';
import { lastEventId, streamRun } from './sse.js';

const GENERATE = 'generate';

export interface RunRoutesOptions {
  backend: AgentBackend;
  runs: RunManager;
  /** SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
}

/** Optional request fields passed through to the core request (validated there). */
const PASS_THROUGH: Record<string, keyof AgentRequestInput> = {
  model: 'model',
  permission_mode: 'permissionMode',
  allowed_tools: 'allowedTools',
  disallowed_tools: 'disallowedTools',
  max_turns: 'maxTurns',
  timeout_ms: 'timeoutMs',
  system_prompt: 'systemPrompt',
};

/** Runs: send a message (202 at once), interrupt, answer a permission request or a question, follow the events (SSE). */
export function runRoutes(router: Router<ApiContext>, options: RunRoutesOptions): void {
  const { backend, runs } = options;
  router
    .on('POST', '/api/v1/agents/:id/messages', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      const agent = await agentOf(ctx, backend);
      if (!agent.ready) throw new ApiError(409, 'AGENT_NOT_READY', `Agent ${agent.agentId} is ${agentState(agent)}`);
      const request: Record<string, unknown> = { prompt: body.content };
      const sessionId = optionalString(body, 'session_id');
      if (sessionId !== undefined) request.sessionId = sessionId;
      for (const [field, key] of Object.entries(PASS_THROUGH))
        if (body[field] !== undefined) request[key] = body[field];
      const url = optionalString(body, 'webhook_url');
      const given = optionalString(body, 'webhook_secret');
      if (given !== undefined && url === undefined)
        throw new ApiError(400, 'WEBHOOK_URL_REQUIRED', 'webhook_secret needs a webhook_url');
      // "generate": the platform makes one and returns it in this answer only.
      const generated = given === GENERATE ? generateWebhookSecret() : undefined;
      const secret = generated ?? given;
      // Refused here (WEBHOOK_SECRET_INVALID), before any work: '' or a plain password would leave the
      // receiver unable to verify with a Standard Webhooks library.
      if (secret !== undefined) webhookSecretKey(secret);
      const live = await runs.start({
        userId: agent.userId,
        agentId: agent.agentId,
        agent: await backend.agentFor(agent),
        request: request as AgentRequestInput,
        ...(url !== undefined ? { webhook: { url, ...(secret !== undefined ? { secret } : {}) } } : {}),
      });
      reply(ctx, 202, {
        request_id: live.requestId,
        agent_id: agent.agentId,
        status: 'processing',
        events_url: `/api/v1/agents/${agent.agentId}/events?request_id=${live.requestId}`,
        ...(generated !== undefined ? { webhook_secret: generated } : {}),
      });
    })
    .on('POST', '/api/v1/agents/:id/interrupt', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const requestId = ctx.url.searchParams.get('request_id') ?? undefined;
      const stopped = await runs.interrupt(agent.userId, agent.agentId, requestId);
      if (!stopped.length)
        throw new ApiError(
          409,
          'NOT_RUNNING',
          `Agent ${agent.agentId} has no live run${requestId ? ` ${requestId}` : ''}`,
        );
      reply(ctx, 200, {
        agent_id: agent.agentId,
        interrupted: stopped.map((r) => ({ request_id: r.requestId, status: r.result?.status ?? 'cancelled' })),
      });
    })
    .on('POST', '/api/v1/agents/:id/permissions/:permission_id', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      const agent = await agentOf(ctx, backend);
      const message = optionalString(body, 'message');
      const live = await runs.respond(agent.userId, agent.agentId, ctx.params.permission_id!, body.decision, message);
      reply(ctx, 200, {
        agent_id: agent.agentId,
        request_id: live.requestId,
        permission_id: ctx.params.permission_id,
        decision: body.decision,
      });
    })
    .on('POST', '/api/v1/agents/:id/questions/:question_id', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      for (const key of Object.keys(body))
        if (key !== 'answers') throw new ApiError(400, 'UNKNOWN_FIELD', `Unknown field "${key}" (expected "answers")`);
      const agent = await agentOf(ctx, backend);
      const live = await runs.answer(agent.userId, agent.agentId, ctx.params.question_id!, body.answers);
      reply(ctx, 200, {
        agent_id: agent.agentId,
        request_id: live.requestId,
        question_id: ctx.params.question_id,
        answers: body.answers,
      });
    })
    .on('GET', '/api/v1/agents/:id/events', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const requestId = ctx.url.searchParams.get('request_id');
      if (!requestId) throw new ApiError(400, 'REQUEST_ID_REQUIRED', 'Name the run: ?request_id=');
      const live = runs.get(agent.userId, requestId);
      if (!live || live.agentId !== agent.agentId)
        throw new ApiError(404, 'REQUEST_NOT_FOUND', `No live or recent run ${requestId} of agent ${agent.agentId}`);
      streamRun(
        ctx.req,
        ctx.res,
        live,
        lastEventId(ctx.req, ctx.url),
        ctx.limits,
        options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {},
      );
    });
}
