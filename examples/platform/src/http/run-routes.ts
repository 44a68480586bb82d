import { ApiError } from '../api-error.js';
import { agentState, type AgentBackend } from '../backends/backend.js';
import type { RunManager } from '../run-manager.js';
import { agentOf, reply, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import { checkFields, parseDecision, parseMessage } from './rest-input.js';
import type { Router } from './router.js';
import { lastEventId, streamRun } from './sse.js';

export interface RunRoutesOptions {
  backend: AgentBackend;
  runs: RunManager;
  /** SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
}

/** Runs: send a message (202 at once), interrupt, answer a permission request or a question, follow the events (SSE). */
export function runRoutes(router: Router<ApiContext>, options: RunRoutesOptions): void {
  const { backend, runs } = options;
  router
    .on('POST', '/api/v1/agents/:id/messages', async (ctx) => {
      // The whole body is checked first: bad input is a 400 whatever the agent's state.
      const { request, webhook, generatedSecret } = parseMessage(readObject(await readJson(ctx.req)));
      const agent = await agentOf(ctx, backend);
      if (!agent.ready) throw new ApiError(409, 'AGENT_NOT_READY', `Agent ${agent.agentId} is ${agentState(agent)}`);
      const live = await runs.start({
        userId: agent.userId,
        agentId: agent.agentId,
        agent: await backend.agentFor(agent),
        request,
        ...(webhook ? { webhook } : {}),
      });
      reply(ctx, 202, {
        request_id: live.requestId,
        agent_id: agent.agentId,
        status: 'processing',
        events_url: `/api/v1/agents/${agent.agentId}/events?request_id=${live.requestId}`,
        // A secret the platform generated ("generate") is shown in this answer only.
        ...(generatedSecret !== undefined ? { webhook_secret: generatedSecret } : {}),
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
      const { decision, message } = parseDecision(readObject(await readJson(ctx.req)));
      const agent = await agentOf(ctx, backend);
      const live = await runs.respond(agent.userId, agent.agentId, ctx.params.permission_id!, decision, message);
      reply(ctx, 200, {
        agent_id: agent.agentId,
        request_id: live.requestId,
        permission_id: ctx.params.permission_id,
        decision,
      });
    })
    .on('POST', '/api/v1/agents/:id/questions/:question_id', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      checkFields(body, ['answers']);
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
