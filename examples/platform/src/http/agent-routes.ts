import type { Logger } from '@forge/core';
import { ApiError } from '../api-error.js';
import { agentState, type AgentBackend, type AgentRecord } from '../backends/backend.js';
import type { RunManager } from '../run-manager.js';
import { agentJson } from './agent-json.js';
import { sessionJson } from './session-json.js';
import { agentOf, reply, userOf, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import type { McpResolver } from '../mcp-catalog.js';
import { agentFilterOf } from './list-filters.js';
import { parseBody } from './parse-body.js';
import { presentFields } from './present-fields.js';
import { parseRunSettings, pickRunSettings } from './run-settings.js';
import { CreateAgentBody } from './rest-schemas.js';
import type { Router } from './router.js';

export interface AgentRoutesOptions {
  backend: AgentBackend;
  runs: RunManager;
  logger: Logger;
  defaultProvider: string;
  maxAgentsPerKey: number;
  createTimeoutMs: number;
  /** Checks the MCP servers an agent's defaults name. */
  mcp: McpResolver;
  /** Told once an agent is created and its settings stored (the platform starts its spare process). */
  onCreated?: ((agent: AgentRecord) => void) | undefined;
}

/** Agents: create (capped per key), list, get (`refresh` asks the agent), its stored sessions, delete. */
export function agentRoutes(router: Router<ApiContext>, options: AgentRoutesOptions): void {
  const { backend, runs, logger } = options;
  const creating = new Map<string, number>();
  router
    .on('POST', '/api/v1/agents', async (ctx) => {
      const body = readObject(await readJson(ctx.req));
      // Checked as a message's fields are (same codes), and the MCP servers resolved once now, so a bad default
      // fails here rather than at every message.
      const settings = pickRunSettings(body);
      const { mcpServers } = parseRunSettings(settings);
      const parsed = parseBody(CreateAgentBody, body);
      if (mcpServers) await options.mcp.resolve(mcpServers);
      const owner = parsed.owner_id ?? undefined;
      if (owner !== undefined && owner !== ctx.principal.userId)
        throw new ApiError(404, 'USER_NOT_FOUND', `No user ${owner}`);
      const userId = userOf(ctx, 'user');
      const provider = parsed.provider ?? options.defaultProvider;
      // Reserved before the backend is asked, so concurrent creates cannot all slip under the cap.
      creating.set(ctx.principal.keyId, (creating.get(ctx.principal.keyId) ?? 0) + 1);
      try {
        const others = (creating.get(ctx.principal.keyId) ?? 1) - 1;
        const live = (await backend.list(userId)).filter((a) => agentState(a) !== 'gone').length;
        if (live + others >= options.maxAgentsPerKey) {
          throw new ApiError(
            429,
            'AGENT_LIMIT',
            `At most ${options.maxAgentsPerKey} live agents per key; delete one first`,
            { 'retry-after': '30' },
          );
        }
        const signal = AbortSignal.timeout(options.createTimeoutMs);
        const agent = await backend.create({
          userId,
          provider,
          ...(parsed.image ? { image: parsed.image } : {}),
          signal,
          timeoutMs: options.createTimeoutMs,
        });
        const given = Object.keys(settings).length > 0;
        if (given) await runs.store.agentSettings.put(userId, agent.agentId, settings, Date.now());
        options.onCreated?.(agent);
        logger.info('agent created', { userId, agentId: agent.agentId, provider, backend: backend.kind });
        await ctx.audit('agent.created', agent.agentId, { provider, backend: backend.kind });
        reply(ctx, 201, agentJson(agent, given ? { settings } : {}));
      } finally {
        const left = (creating.get(ctx.principal.keyId) ?? 1) - 1;
        if (left) creating.set(ctx.principal.keyId, left);
        else creating.delete(ctx.principal.keyId);
      }
    })
    .on('GET', '/api/v1/agents', async (ctx) => {
      const userId = userOf(ctx, 'user');
      const filter = agentFilterOf(ctx.url.searchParams);
      const [agents, activity] = await Promise.all([backend.list(userId), runs.activity(userId)]);
      reply(ctx, 200, {
        agents: agents
          .filter(
            (a) => (filter.provider ?? a.provider) === a.provider && (filter.state ?? agentState(a)) === agentState(a),
          )
          .map((a) => {
            const act = activity.get(a.agentId);
            return agentJson(a, { busy: act?.running !== undefined, queued: act?.queued ?? 0 });
          }),
      });
    })
    .on('GET', '/api/v1/agents/:id', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const [{ running, queued }, settings] = await Promise.all([
        runs.active(agent.userId, agent.agentId),
        runs.store.agentSettings.get(agent.userId, agent.agentId),
      ]);
      const extra: Record<string, unknown> = {
        ...(settings ? { settings } : {}),
        busy: running !== undefined,
        live_request_ids: running ? [running.requestId] : [],
        queued_request_ids: queued.map((r) => r.requestId),
      };
      if (ctx.url.searchParams.get('refresh') === 'true') {
        const s = await backend.status(agent);
        extra.live_status = presentFields({
          reachable: s.reachable,
          provider: s.provider,
          version: s.version,
          runs_in_flight: s.runsInFlight,
          draining: s.draining,
          capabilities: s.capabilities,
          error: s.error,
        });
      }
      reply(ctx, 200, agentJson(agent, extra));
    })
    .on('GET', '/api/v1/agents/:id/sessions', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      // By the agent's runs, not its provider's name: a remote agent's sessions carry the program's.
      const sessions = await runs.store.agentSessions.list(agent.userId, agent.agentId);
      reply(ctx, 200, { agent_id: agent.agentId, sessions: sessions.map(sessionJson) });
    })
    .on('DELETE', '/api/v1/agents/:id', async (ctx) => {
      const agent = await agentOf(ctx, backend);
      const graceful = ctx.url.searchParams.get('graceful') === 'true';
      // Its queued messages go too: they could never run.
      const interrupted = await runs.interrupt(agent.userId, agent.agentId, { clear: true });
      const deleted = await backend.delete(agent.userId, agent.agentId, { graceful });
      if (!deleted) throw new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${agent.agentId}`);
      await runs.store.agentSettings.remove(agent.userId, agent.agentId);
      logger.info('agent deleted', {
        userId: agent.userId,
        agentId: agent.agentId,
        graceful,
        interrupted: interrupted.length,
      });
      await ctx.audit('agent.deleted', agent.agentId, { graceful, interrupted: interrupted.length });
      reply(ctx, 200, {
        agent_id: agent.agentId,
        deleted: true,
        interrupted_request_ids: interrupted.map((r) => r.requestId),
      });
    });
}
