import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, systemClock, type Clock, type Logger, type McpServer } from '@forge/core';
import { ApiError, errorResponse } from '../api-error.js';
import type { RateWindows } from '@forge/store';
import { bearerToken } from '../api-keys.js';
import { actorOf, auditRecorder } from '../audit-trail.js';
import type { Authenticator } from '../key-authenticator.js';
import { requestLimiter } from '../shared-rate-limiter.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { auditRoutes } from './audit-routes.js';
import type { AgentBackend, AgentRecord } from '../backends/backend.js';
import { attachRoutes } from '../attach/attach-routes.js';
import type { AttachService } from '../attach/attach-service.js';
import { serveDashboard } from '../dashboard/serve.js';
import type { RateDecision } from '../rate-limiter.js';
import type { RunManager } from '../run-manager.js';
import type { ProviderCatalog } from '../providers/provider-catalog.js';
import { agentRoutes } from './agent-routes.js';
import { agentLogsRoutes, type AgentLogSource } from './agent-logs-routes.js';
import { reply, type ApiContext } from './context.js';
import { createMcpResolver } from '../mcp-catalog.js';
import { sendJson } from './io.js';
import { DEFAULT_MAX_ATTACHMENT_BYTES } from './rest-attachments.js';
import type { RunDefaults } from './run-settings.js';
import { openApiDocument } from './openapi.js';
import { providerRoutes } from './provider-routes.js';
import { enrolmentTokenRoutes } from './enrolment-token-routes.js';
import { identifierOf } from './identifiers.js';
import type { RemoteAgentsView } from './remote-agents-view.js';
import { requestTarget } from './request-target.js';
import { Router } from './router.js';
import { runRoutes } from './run-routes.js';
import { spendRoutes } from './spend-routes.js';
import { usageRoutes } from './usage-routes.js';
import type { PlatformHealth } from './health-routes.js';
import { metricsRoutes } from '../metrics/metrics-routes.js';
import type { PlatformMetrics } from '../metrics/platform-metrics.js';

export type { RemoteAgentsView } from './remote-agents-view.js';

export interface ApiOptions {
  /** The bootstrap keys alone (ApiKeyStore), or with the issued ones (KeyAuthenticator). */
  keys: Authenticator;
  backend: AgentBackend;
  runs: RunManager;
  defaultProvider: string;
  rateLimitPerMinute: number;
  maxAgentsPerKey: number;
  createTimeoutMs: number;
  /** Told once an agent is created and its settings stored. */
  onAgentCreated?: (agent: AgentRecord) => void;
  remoteAgents?: RemoteAgentsView;
  /** Terminals into agents' workspaces; without it the attach routes are absent. */
  attach?: AttachService;
  /** Behind `GET /api/v1/providers`; without it the list is empty. */
  providers?: ProviderCatalog;
  logger?: Logger;
  clock?: Clock;
  /** SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
  /** The operator's MCP servers users may name (FORGE_MCP_SERVERS). Default none. */
  mcpServers?: McpServer[];
  /** Private hosts/CIDRs users' MCP URL servers may reach: the webhook allow list. Default none. */
  allowPrivateNetworks?: boolean | string[];
  /** Decoded bytes of a message's attachments together (FORGE_MAX_ATTACHMENT_BYTES). Default 5 MiB. */
  maxAttachmentBytes?: number;
  /** The operator's approvals and budget for every run, under the agent's and the message's (FORGE_DEFAULT_*). */
  runDefaults?: RunDefaults;
  /** Failed authentications per minute from one address before it gets 429 (slows key guessing). Default 30. */
  authFailuresPerMinute?: number;
  /** /livez, /readyz and /healthz; without it /healthz answers 200 whatever happens. */
  health?: PlatformHealth;
  /** Counts SSE readers; and serves GET /metrics (admin keys) unless `serveMetrics` is false (its own port). */
  metrics?: PlatformMetrics;
  serveMetrics?: boolean;
  /** Requests per minute from one client address, every key together (FORGE_RATE_LIMIT_PER_ADDRESS). Default none. */
  rateLimitPerAddress?: number;
  /** Where the rate limits count: the store's windows, shared by the replicas. Without it, this process's memory. */
  rateWindows?: RateWindows;
  /** Agents' logs (remote agents' over the dial-home link); default `backend.logs`. */
  agentLogs?: AgentLogSource;
}

/** A node:http request listener; `routes()` lists what it serves under /api (the OpenAPI test covers each). */
export type ApiHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  routes(): Array<{ method: string; path: string }>;
};

/** The platform's HTTP API, dashboard included, as a node:http request listener. */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const { keys, backend, runs } = options;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const limiter = requestLimiter(options.rateWindows, 'key', options.rateLimitPerMinute, clock);
  const authFailures = requestLimiter(options.rateWindows, 'auth-failure', options.authFailuresPerMinute ?? 30, clock);
  const perAddress = options.rateLimitPerAddress
    ? requestLimiter(options.rateWindows, 'address', options.rateLimitPerAddress, clock)
    : undefined;

  const router = new Router<ApiContext>();
  let document: Record<string, unknown> | undefined;
  const mcp = createMcpResolver({
    ...(options.mcpServers ? { catalog: options.mcpServers } : {}),
    ...(options.allowPrivateNetworks !== undefined ? { allowPrivateNetworks: options.allowPrivateNetworks } : {}),
  });
  agentRoutes(router, {
    backend,
    runs,
    logger,
    defaultProvider: options.defaultProvider,
    maxAgentsPerKey: options.maxAgentsPerKey,
    createTimeoutMs: options.createTimeoutMs,
    mcp,
    onCreated: options.onAgentCreated,
  });
  runRoutes(router, {
    backend,
    runs,
    mcp,
    maxAttachmentBytes: options.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
    runDefaults: options.runDefaults ?? {},
    ...(options.sseHeartbeatMs ? { sseHeartbeatMs: options.sseHeartbeatMs } : {}),
    ...(options.metrics ? { sseReader: () => options.metrics!.sseReader() } : {}),
  });
  agentLogsRoutes(router, {
    backend,
    ...(options.agentLogs ? { logs: options.agentLogs } : {}),
    ...(options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {}),
  });
  providerRoutes(router, { catalog: options.providers, defaultProvider: options.defaultProvider });
  spendRoutes(router, { spends: runs.store.keySpend });
  usageRoutes(router, { usage: runs.store.usage });
  const serveMetrics = options.metrics !== undefined && options.serveMetrics !== false;
  if (serveMetrics) metricsRoutes(router, { metrics: options.metrics! });
  enrolmentTokenRoutes(router, { remoteAgents: options.remoteAgents, logger });
  if (options.attach) attachRoutes(router, { backend, attach: options.attach });
  apiKeyRoutes(router, { keys: runs.store.apiKeys, clock });
  auditRoutes(router, { audit: runs.store.audit });
  router.on('GET', '/api/v1/remote-agents', async (ctx) => {
    // Without a hub the answer is still 200, so clients need no special case for a platform without one.
    if (!options.remoteAgents) return reply(ctx, 200, { enabled: false, agents: [] });
    reply(ctx, 200, { enabled: true, agents: await options.remoteAgents.list() });
  });
  router.on('DELETE', '/api/v1/remote-agents/:name', async (ctx) => {
    // Remote agents are the operator's, not one user's: revoking one takes an admin key, as issuing tokens does.
    if (!ctx.principal.admin)
      throw new ApiError(403, 'ADMIN_REQUIRED', 'Revoking a remote agent takes an admin key (FORGE_ADMIN_USERS)');
    const name = identifierOf(ctx.params.name!, 'name', 'INVALID_REMOTE_AGENT_NAME');
    const revoked = await options.remoteAgents?.revoke(name);
    if (!revoked) throw new ApiError(404, 'REMOTE_AGENT_NOT_FOUND', `No enrolled remote agent ${name}`);
    logger.info('remote agent revoked over the API', { userId: ctx.principal.userId, name });
    await ctx.audit('remote_agent.revoked', name, {});
    reply(ctx, 200, { revoked: true, agent: revoked });
  });

  const limitHeaders = (d: RateDecision): Record<string, string> => ({
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': String(d.remaining),
    'x-ratelimit-reset': String(d.resetAt),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Routed on the path as sent: nothing resolves `..` into another route first.
    const { pathname, url } = requestTarget(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (!pathname.startsWith('/api/') && !(serveMetrics && pathname === '/metrics')) {
      if (options.health && (await options.health.serve(res, pathname))) return;
      if (pathname === '/healthz') return sendJson(res, 200, { ok: true, backend: backend.kind });
      if (serveDashboard(req, res, pathname)) return;
      throw new ApiError(404, 'NOT_FOUND', `Nothing at ${pathname}`);
    }
    // The API's description is public: a client reads it before it has a key.
    if (pathname === '/api/v1/openapi.json' && (method === 'GET' || method === 'HEAD'))
      return sendJson(res, 200, (document ??= openApiDocument()));
    const remote = req.socket.remoteAddress ?? 'unknown';
    const fromAddress = perAddress && (await perAddress.take(remote));
    if (fromAddress && !fromAddress.allowed)
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `At most ${fromAddress.limit} requests per minute from one address; retry in ${fromAddress.retryAfter} s`,
        { ...limitHeaders(fromAddress), 'retry-after': String(fromAddress.retryAfter) },
      );
    const principal = await keys.authenticate(bearerToken(req.headers.authorization));
    if (!principal) {
      const guard = await authFailures.take(remote);
      if (!guard.allowed) {
        throw new ApiError(
          429,
          'TOO_MANY_AUTH_FAILURES',
          `Too many failed authentications; retry in ${guard.retryAfter} s`,
          { 'retry-after': String(guard.retryAfter) },
        );
      }
      // The key is never logged, not even in part.
      logger.warn('authentication failed', {
        reason: req.headers.authorization ? 'invalid key' : 'no key',
        method,
        path: pathname,
        remote,
      });
      throw new ApiError(401, 'UNAUTHENTICATED', 'Send `Authorization: Bearer <api key>`', {
        'www-authenticate': 'Bearer realm="forge"',
      });
    }
    const decision = await limiter.take(principal.keyId);
    const limits = limitHeaders(decision);
    if (!decision.allowed) {
      logger.warn('rate limited', { userId: principal.userId, method, path: pathname });
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `At most ${decision.limit} requests per minute; retry in ${decision.retryAfter} s`,
        {
          ...limits,
          'retry-after': String(decision.retryAfter),
        },
      );
    }
    let found: ReturnType<typeof router.match>;
    try {
      found = router.match(method, pathname);
    } catch {
      throw new ApiError(400, 'INVALID_PATH', 'The path is not valid: bad percent-encoding', limits);
    }
    if (!found) throw new ApiError(404, 'NOT_FOUND', `No route ${method} ${pathname}`, limits);
    if ('allowed' in found)
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, {
        ...limits,
        allow: found.allowed.join(', '),
      });
    try {
      const audit = auditRecorder(runs.store.audit, actorOf(principal), logger);
      await found.handler({ req, res, url, params: found.params, principal, limits, audit });
    } catch (error) {
      if (error instanceof ApiError)
        throw new ApiError(error.status, error.code, error.message, { ...limits, ...error.headers }, error.details);
      (error as { limits?: Record<string, string> }).limits = limits;
      throw error;
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    res.on('finish', () =>
      logger.debug('request', {
        method: req.method,
        path: req.url?.split('?')[0],
        status: res.statusCode,
        ms: Date.now() - started,
      }),
    );
    handle(req, res).catch((error: unknown) => {
      const response = errorResponse(error);
      const limits = (error as { limits?: Record<string, string> })?.limits ?? {};
      if (response.internal)
        logger.error('request failed', {
          method: req.method,
          path: req.url?.split('?')[0],
          error: String((error as Error)?.stack ?? error),
        });
      sendJson(res, response.status, response.body, { ...limits, ...response.headers });
    });
  };
  return Object.assign(listener, { routes: () => router.routes() });
}
