import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, systemClock, type AgentRequestInput, type Clock, type Logger } from '@forge/core';
import { ApiError, errorResponse } from '../api-error.js';
import { bearerToken, type ApiKeyStore, type Principal } from '../api-keys.js';
import { AGENT_ID, agentState, type AgentBackend, type AgentRecord } from '../backends/backend.js';
import { RateLimiter, type RateDecision } from '../rate-limiter.js';
import type { RunManager } from '../run-manager.js';
import { agentJson } from './agent-json.js';
import { optionalString, readJson, readObject, sendJson } from './io.js';
import { Router, type RouteContext } from './router.js';
import { lastEventId, streamRun } from './sse.js';
import { serveDashboard } from '../dashboard/serve.js';

export interface RemoteAgentsView {
  list(): Promise<Array<Record<string, unknown>>>;
}

export interface ApiOptions {
  keys: ApiKeyStore;
  backend: AgentBackend;
  runs: RunManager;
  defaultProvider: string;
  rateLimitPerMinute: number;
  maxAgentsPerKey: number;
  createTimeoutMs: number;
  remoteAgents?: RemoteAgentsView;
  logger?: Logger;
  clock?: Clock;
  /** SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
  /** Failed authentications per minute from one address before it gets 429 (slows key guessing). Default 30. */
  authFailuresPerMinute?: number;
}

interface Ctx extends RouteContext {
  principal: Principal;
  limits: Record<string, string>;
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

/** The platform's HTTP API, dashboard included, as a node:http request listener. */
export function createApiHandler(options: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { keys, backend, runs } = options;
  const logger = options.logger ?? silentLogger;
  const limiter = new RateLimiter(options.rateLimitPerMinute, 60_000, options.clock ?? systemClock);
  const authFailures = new RateLimiter(options.authFailuresPerMinute ?? 30, 60_000, options.clock ?? systemClock);
  const creating = new Map<string, number>();

  /** `?user_id=` may only name the key's own user; any other is answered as if it did not exist. */
  const userOf = (ctx: Ctx, what: 'agent' | 'user'): string => {
    const asked = ctx.url.searchParams.get('user_id');
    if (asked !== null && asked !== ctx.principal.userId) {
      throw what === 'agent' ? new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${ctx.params.id ?? ''}`.trim()) : new ApiError(404, 'USER_NOT_FOUND', `No user ${asked}`);
    }
    return ctx.principal.userId;
  };

  const agentOf = async (ctx: Ctx): Promise<AgentRecord> => {
    const userId = userOf(ctx, 'agent');
    const id = ctx.params.id!;
    const agent = AGENT_ID.test(id) ? await backend.get(userId, id) : undefined;
    if (!agent) throw new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${id}`);
    return agent;
  };

  const json = (ctx: Ctx, status: number, body: unknown) => sendJson(ctx.res, status, body, ctx.limits);

  const router = new Router<Ctx>()
    .on('POST', '/api/v1/agents', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      const owner = optionalString(body, 'owner_id');
      if (owner !== undefined && owner !== ctx.principal.userId) throw new ApiError(404, 'USER_NOT_FOUND', `No user ${owner}`);
      const userId = userOf(ctx, 'user');
      const provider = optionalString(body, 'provider') ?? options.defaultProvider;
      // Reserved before the backend is asked, so concurrent creates cannot all slip under the cap.
      creating.set(ctx.principal.keyId, (creating.get(ctx.principal.keyId) ?? 0) + 1);
      try {
        const others = (creating.get(ctx.principal.keyId) ?? 1) - 1;
        const live = (await backend.list(userId)).filter((a) => agentState(a) !== 'gone').length;
        if (live + others >= options.maxAgentsPerKey) {
          throw new ApiError(429, 'AGENT_LIMIT', `At most ${options.maxAgentsPerKey} live agents per key; delete one first`, { 'retry-after': '30' });
        }
        const signal = AbortSignal.timeout(options.createTimeoutMs);
        const agent = await backend.create({ userId, provider, signal, timeoutMs: options.createTimeoutMs });
        logger.info('agent created', { userId, agentId: agent.agentId, provider, backend: backend.kind });
        json(ctx, 201, agentJson(agent));
      } finally {
        const left = (creating.get(ctx.principal.keyId) ?? 1) - 1;
        if (left) creating.set(ctx.principal.keyId, left);
        else creating.delete(ctx.principal.keyId);
      }
    })
    .on('GET', '/api/v1/agents', async (ctx) => {
      const userId = userOf(ctx, 'user');
      const agents = await backend.list(userId);
      json(ctx, 200, { agents: agents.map((a) => agentJson(a, { busy: runs.liveFor(userId, a.agentId).length > 0 })) });
    })
    .on('GET', '/api/v1/agents/:id', async (ctx) => {
      const agent = await agentOf(ctx);
      const live = runs.liveFor(agent.userId, agent.agentId).map((r) => r.requestId);
      const extra: Record<string, unknown> = { busy: live.length > 0, live_request_ids: live };
      if (ctx.url.searchParams.get('refresh') === 'true') {
        const s = await backend.status(agent);
        extra.live_status = {
          reachable: s.reachable,
          ...(s.provider ? { provider: s.provider } : {}),
          ...(s.version ? { version: s.version } : {}),
          ...(s.runsInFlight !== undefined ? { runs_in_flight: s.runsInFlight } : {}),
          ...(s.draining !== undefined ? { draining: s.draining } : {}),
          ...(s.capabilities ? { capabilities: s.capabilities } : {}),
          ...(s.error ? { error: s.error } : {}),
        };
      }
      json(ctx, 200, agentJson(agent, extra));
    })
    .on('DELETE', '/api/v1/agents/:id', async (ctx) => {
      const agent = await agentOf(ctx);
      const graceful = ctx.url.searchParams.get('graceful') === 'true';
      const interrupted = await runs.interrupt(agent.userId, agent.agentId);
      const deleted = await backend.delete(agent.userId, agent.agentId, { graceful });
      if (!deleted) throw new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${agent.agentId}`);
      logger.info('agent deleted', { userId: agent.userId, agentId: agent.agentId, graceful, interrupted: interrupted.length });
      json(ctx, 200, { agent_id: agent.agentId, deleted: true, interrupted_request_ids: interrupted.map((r) => r.requestId) });
    })
    .on('POST', '/api/v1/agents/:id/messages', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      const agent = await agentOf(ctx);
      if (!agent.ready) throw new ApiError(409, 'AGENT_NOT_READY', `Agent ${agent.agentId} is ${agentState(agent)}`);
      const request: Record<string, unknown> = { prompt: body.content };
      const sessionId = optionalString(body, 'session_id');
      if (sessionId !== undefined) request.sessionId = sessionId;
      for (const [field, key] of Object.entries(PASS_THROUGH)) if (body[field] !== undefined) request[key] = body[field];
      const url = optionalString(body, 'webhook_url');
      const secret = optionalString(body, 'webhook_secret');
      if (secret !== undefined && url === undefined) throw new ApiError(400, 'WEBHOOK_URL_REQUIRED', 'webhook_secret needs a webhook_url');
      const live = await runs.start({
        userId: agent.userId,
        agentId: agent.agentId,
        agent: await backend.agentFor(agent),
        request: request as AgentRequestInput,
        ...(url !== undefined ? { webhook: { url, ...(secret !== undefined ? { secret } : {}) } } : {}),
      });
      json(ctx, 202, {
        request_id: live.requestId,
        agent_id: agent.agentId,
        status: 'processing',
        events_url: `/api/v1/agents/${agent.agentId}/events?request_id=${live.requestId}`,
      });
    })
    .on('POST', '/api/v1/agents/:id/interrupt', async (ctx) => {
      const agent = await agentOf(ctx);
      const requestId = ctx.url.searchParams.get('request_id') ?? undefined;
      const stopped = await runs.interrupt(agent.userId, agent.agentId, requestId);
      if (!stopped.length) throw new ApiError(409, 'NOT_RUNNING', `Agent ${agent.agentId} has no live run${requestId ? ` ${requestId}` : ''}`);
      json(ctx, 200, {
        agent_id: agent.agentId,
        interrupted: stopped.map((r) => ({ request_id: r.requestId, status: r.result?.status ?? 'cancelled' })),
      });
    })
    .on('POST', '/api/v1/agents/:id/permissions/:permission_id', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      const agent = await agentOf(ctx);
      const message = optionalString(body, 'message');
      const live = await runs.respond(agent.userId, agent.agentId, ctx.params.permission_id!, body.decision, message);
      json(ctx, 200, { agent_id: agent.agentId, request_id: live.requestId, permission_id: ctx.params.permission_id, decision: body.decision });
    })
    .on('GET', '/api/v1/agents/:id/events', async (ctx) => {
      const agent = await agentOf(ctx);
      const requestId = ctx.url.searchParams.get('request_id');
      if (!requestId) throw new ApiError(400, 'REQUEST_ID_REQUIRED', 'Name the run: ?request_id=');
      const live = runs.get(agent.userId, requestId);
      if (!live || live.agentId !== agent.agentId) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No live or recent run ${requestId} of agent ${agent.agentId}`);
      streamRun(ctx.req, ctx.res, live, lastEventId(ctx.req, ctx.url), ctx.limits, options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {});
    })
    .on('GET', '/api/v1/remote-agents', async (ctx) => {
      // Without a hub the answer is still 200, so clients need no special case for a platform without one.
      if (!options.remoteAgents) return json(ctx, 200, { enabled: false, agents: [] });
      json(ctx, 200, { enabled: true, agents: await options.remoteAgents.list() });
    });

  const limitHeaders = (d: RateDecision): Record<string, string> => ({
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': String(d.remaining),
    'x-ratelimit-reset': String(d.resetAt),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://platform.invalid');
    const method = req.method ?? 'GET';
    if (!url.pathname.startsWith('/api/')) {
      if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true, backend: backend.kind });
      if (serveDashboard(req, res, url.pathname)) return;
      throw new ApiError(404, 'NOT_FOUND', `Nothing at ${url.pathname}`);
    }
    const remote = req.socket.remoteAddress ?? 'unknown';
    const principal = keys.authenticate(bearerToken(req.headers.authorization));
    if (!principal) {
      const guard = authFailures.take(remote);
      if (!guard.allowed) {
        throw new ApiError(429, 'TOO_MANY_AUTH_FAILURES', `Too many failed authentications; retry in ${guard.retryAfter} s`, { 'retry-after': String(guard.retryAfter) });
      }
      // The key is never logged, not even in part.
      logger.warn('authentication failed', {
        reason: req.headers.authorization ? 'invalid key' : 'no key',
        method,
        path: url.pathname,
        remote,
      });
      throw new ApiError(401, 'UNAUTHENTICATED', 'Send `Authorization: Bearer <api key>`', { 'www-authenticate': 'Bearer realm="forge"' });
    }
    const decision = limiter.take(principal.keyId);
    const limits = limitHeaders(decision);
    if (!decision.allowed) {
      logger.warn('rate limited', { userId: principal.userId, method, path: url.pathname });
      throw new ApiError(429, 'RATE_LIMITED', `At most ${decision.limit} requests per minute; retry in ${decision.retryAfter} s`, {
        ...limits,
        'retry-after': String(decision.retryAfter),
      });
    }
    let found;
    try {
      found = router.match(method, url.pathname);
    } catch {
      throw new ApiError(400, 'INVALID_PATH', 'The path is not valid', limits);
    }
    if (!found) throw new ApiError(404, 'NOT_FOUND', `No route ${method} ${url.pathname}`, limits);
    if ('allowed' in found) throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, { ...limits, allow: found.allowed.join(', ') });
    try {
      await found.handler({ req, res, url, params: found.params, principal, limits });
    } catch (error) {
      if (error instanceof ApiError) throw new ApiError(error.status, error.code, error.message, { ...limits, ...error.headers }, error.details);
      (error as { limits?: Record<string, string> }).limits = limits;
      throw error;
    }
  }

  return (req, res) => {
    const started = Date.now();
    res.on('finish', () => logger.debug('request', { method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Date.now() - started }));
    handle(req, res).catch((error: unknown) => {
      const response = errorResponse(error);
      const limits = (error as { limits?: Record<string, string> })?.limits ?? {};
      if (response.internal) logger.error('request failed', { method: req.method, path: req.url?.split('?')[0], error: String((error as Error)?.stack ?? error) });
      sendJson(res, response.status, response.body, { ...limits, ...response.headers });
    });
  };
}
