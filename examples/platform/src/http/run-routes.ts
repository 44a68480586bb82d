import { ApiError } from '../api-error.js';
import { agentState, type AgentBackend } from '../backends/backend.js';
import type { RunRecord } from '@forge/store';
import type { RunManager } from '../run-manager.js';
import { agentOf, reply, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import { cursorOf, identifierOf, requestIdOf } from './identifiers.js';
import { refuseSpentKey } from '../key-budget.js';
import type { McpResolver } from '../mcp-catalog.js';
import { runFilterOf } from './list-filters.js';
import { parseBody } from './parse-body.js';
import { messageBodyLimit } from './rest-attachments.js';
import { layerRequest, parseRunSettings, type RunDefaults } from './run-settings.js';
import { parseDecision, parseMessage } from './rest-input.js';
import { AnswerBody, SteerBody } from './rest-schemas.js';
import type { Router } from './router.js';
import { runJson } from './run-json.js';
import { lastEventId, streamRun } from './sse.js';
import { refuseBadText } from './text-input.js';

export interface RunRoutesOptions {
  backend: AgentBackend;
  runs: RunManager;
  /** Resolves the MCP servers a message names (the operator's catalogue, the SSRF guard). */
  mcp: McpResolver;
  /** Decoded bytes of a message's attachments together. */
  maxAttachmentBytes: number;
  /** The operator's run defaults, under each agent's. */
  runDefaults: RunDefaults;
  /** SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
  /** Called as an SSE stream opens; what it returns, as it closes (the readers gauge). */
  sseReader?: () => () => void;
}

function pageLimit(text: string | null): number {
  if (text === null) return 20;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ApiError(400, 'INVALID_LIMIT', 'limit must be 1 to 100');
  return n;
}

/** The agent's run, or 404 — the same 404 whether it belongs to someone else or to no one. */
async function runOf(runs: RunManager, userId: string, agentId: string, requestId: string): Promise<RunRecord> {
  const run = await runs.get(userId, requestId);
  if (!run || run.agentId !== agentId)
    throw new ApiError(404, 'REQUEST_NOT_FOUND', `No run ${requestId} of agent ${agentId}`);
  return run;
}

/**
 * Aborts when the client goes away before it has been answered (a reply relayed to another
 * instance is then withdrawn rather than waited for). `res` 'close' before 'finish' is that;
 * `req` 'close' is not, it also fires once the body has been read.
 */
function clientGone(ctx: ApiContext): AbortSignal {
  const gone = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/**
 * Runs: send a message (202 once stored, queued per agent), list and read runs, take a queued one
 * off the queue, interrupt, answer a permission request or a question, follow the events (SSE,
 * from the journal).
 */
export function runRoutes(router: Router<ApiContext>, options: RunRoutesOptions): void {
  const { backend, runs } = options;
  router
    .on('POST', '/api/v1/agents/:id/messages', async (ctx) => {
      // The whole body is checked first: bad input is a 400 whatever the agent's state.
      const body = readObject(await readJson(ctx.req, messageBodyLimit(options.maxAttachmentBytes)));
      const message = parseMessage(body, options.maxAttachmentBytes);
      const { webhook, generatedSecret } = message;
      let mcpServers = message.mcpServers && (await options.mcp.resolve(message.mcpServers));
      const agent = await agentOf(ctx, backend);
      if (!agent.ready) throw new ApiError(409, 'AGENT_NOT_READY', `Agent ${agent.agentId} is ${agentState(agent)}`);
      const { caps, keyId } = ctx.principal;
      if (caps) await refuseSpentKey(runs.store.keySpend, keyId, caps, Date.now());
      const saved = await runs.store.agentSettings.get(agent.userId, agent.agentId);
      const defaults = saved ? parseRunSettings(saved) : undefined;
      if (!mcpServers && defaults?.mcpServers) mcpServers = await options.mcp.resolve(defaults.mcpServers);
      const request = layerRequest(message.request, defaults, options.runDefaults);
      if (mcpServers) request.mcpServers = mcpServers;
      const { run, status, ahead } = await runs.submit({
        userId: agent.userId,
        agentId: agent.agentId,
        request,
        keyId,
        ...(webhook ? { webhook } : {}),
      });
      reply(ctx, 202, {
        request_id: run.requestId,
        agent_id: agent.agentId,
        status,
        ...(status === 'queued' ? { queued_ahead: ahead } : {}),
        events_url: `/api/v1/agents/${agent.agentId}/events?request_id=${run.requestId}`,
        run_url: `/api/v1/agents/${agent.agentId}/runs/${run.requestId}`,
        // A secret the platform generated ("generate") is shown in this answer only.
        ...(generatedSecret !== undefined ? { webhook_secret: generatedSecret } : {}),
      });
    })
    .on('POST', '/api/v1/agents/:id/interrupt', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const named = ctx.url.searchParams.get('request_id');
      const requestId = named === null ? undefined : requestIdOf(named);
      const clear = ctx.url.searchParams.get('clear') === 'true';
      const stopped = await runs.interrupt(agent.userId, agent.agentId, {
        ...(requestId !== undefined ? { requestId } : {}),
        clear,
      });
      if (!stopped.length)
        throw new ApiError(
          409,
          'NOT_RUNNING',
          `Agent ${agent.agentId} has no live run${requestId ? ` ${requestId}` : ''}`,
        );
      reply(ctx, 200, {
        agent_id: agent.agentId,
        interrupted: stopped.map((r) => ({ request_id: r.requestId, status: r.status })),
      });
    })
    .on('GET', '/api/v1/agents/:id/runs', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const limit = pageLimit(ctx.url.searchParams.get('limit'));
      const before = cursorOf(ctx.url.searchParams.get('cursor'));
      const page = await runs.list(agent.userId, agent.agentId, {
        ...runFilterOf(ctx.url.searchParams),
        limit: limit + 1,
        ...(before !== undefined ? { before } : {}),
      });
      const more = page.length > limit;
      const shown = page.slice(0, limit);
      reply(ctx, 200, {
        agent_id: agent.agentId,
        runs: shown.map((r) => runJson(r)),
        ...(more ? { next_cursor: String(shown.at(-1)!.position) } : {}),
      });
    })
    .on('GET', '/api/v1/agents/:id/runs/:request_id', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const run = await runOf(runs, agent.userId, agent.agentId, requestIdOf(ctx.params.request_id!));
      // What it waits for, so a client that reloads can offer the open approvals and questions again.
      reply(ctx, 200, runJson(run, { pending: await runs.pending(run) }));
    })
    .on('DELETE', '/api/v1/agents/:id/runs/:request_id', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const run = await runOf(runs, agent.userId, agent.agentId, requestIdOf(ctx.params.request_id!));
      const removed = run.status === 'queued' ? await runs.removeQueued(agent.userId, run.requestId) : undefined;
      if (!removed)
        throw new ApiError(
          409,
          'RUN_NOT_QUEUED',
          `Run ${run.requestId} is no longer queued${run.status === 'running' ? '; interrupt it instead' : ''}`,
        );
      reply(ctx, 200, runJson(removed));
    })
    .on('POST', '/api/v1/agents/:id/permissions/:permission_id', async (ctx) => {
      const { decision, message } = parseDecision(readObject(await readJson(ctx.req)));
      const permissionId = identifierOf(ctx.params.permission_id!, 'permission_id', 'INVALID_PERMISSION_ID');
      const agent = await agentOf(ctx, backend);
      // Wherever the run executes: another instance's answer is relayed back as it gave it.
      const done = await runs.respond(agent.userId, agent.agentId, permissionId, decision, message, clientGone(ctx));
      await ctx.audit('permission.decided', agent.agentId, {
        request_id: done.requestId,
        permission_id: permissionId,
        decision,
      });
      reply(ctx, 200, {
        agent_id: agent.agentId,
        request_id: done.requestId,
        permission_id: permissionId,
        decision,
      });
    })
    .on('POST', '/api/v1/agents/:id/questions/:question_id', async (ctx) => {
      const raw = readObject(await readJson(ctx.req));
      const body = parseBody(AnswerBody, raw, { answers: 'INVALID_ANSWER' });
      refuseBadText(raw, { answers: 'INVALID_ANSWER' });
      const questionId = identifierOf(ctx.params.question_id!, 'question_id', 'INVALID_QUESTION_ID');
      const agent = await agentOf(ctx, backend);
      const done = await runs.answer(agent.userId, agent.agentId, questionId, body.answers, clientGone(ctx));
      // Who answered, not what: an answer may hold what the user would not want in an operator's log.
      await ctx.audit('question.answered', agent.agentId, { request_id: done.requestId, question_id: questionId });
      reply(ctx, 200, {
        agent_id: agent.agentId,
        request_id: done.requestId,
        question_id: questionId,
        answers: body.answers,
      });
    })
    .on('POST', '/api/v1/agents/:id/runs/:request_id/steer', async (ctx) => {
      const raw = readObject(await readJson(ctx.req));
      const body = parseBody(SteerBody, raw, { text: 'INVALID_STEER_TEXT' });
      refuseBadText(raw, { text: 'INVALID_STEER_TEXT' });
      const requestId = requestIdOf(ctx.params.request_id!);
      const agent = await agentOf(ctx, backend);
      // Wherever the run executes: another instance's answer is relayed back as it gave it.
      const done = await runs.steer(agent.userId, agent.agentId, requestId, body.text, clientGone(ctx));
      reply(ctx, 200, { agent_id: agent.agentId, request_id: done.requestId, steered: true });
    })
    .on('GET', '/api/v1/agents/:id/events', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const requestId = ctx.url.searchParams.get('request_id');
      if (!requestId) throw new ApiError(400, 'REQUEST_ID_REQUIRED', 'Name the run: ?request_id=');
      const run = await runOf(runs, agent.userId, agent.agentId, requestIdOf(requestId));
      // Checked before the stream's 200 is written, so a bad id is answered 400.
      const after = lastEventId(ctx.req, ctx.url);
      await streamRun(
        ctx.req,
        ctx.res,
        run.requestId,
        (signal) => runs.follow(run.requestId, after, signal),
        ctx.limits,
        {
          ...(options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {}),
          ...(options.sseReader ? { onOpen: options.sseReader } : {}),
        },
      );
    });
}
