import { ApiError } from '../api-error.js';
import type { AgentBackend } from '../backends/backend.js';
import { agentOf, reply, type ApiContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { AttachService } from './attach-service.js';

/**
 * `POST /agents/:id/attach-tickets` and the plain-HTTP face of `GET /agents/:id/attach` (the
 * WebSocket itself is served on the server's `upgrade` event, see AttachService).
 */
export function attachRoutes(router: Router<ApiContext>, options: { backend: AgentBackend; attach: AttachService }) {
  router
    .on('POST', '/api/v1/agents/:id/attach-tickets', async (ctx) => {
      const agent = await agentOf(ctx, options.backend);
      if (!options.backend.attach)
        throw new ApiError(501, 'ATTACH_UNSUPPORTED', `The ${options.backend.kind} backend cannot attach`);
      const ticket = options.attach.issueTicket(agent.userId, agent.agentId, ctx.principal.apiKeyId ?? 'bootstrap');
      // Where the client reached us is where it will open the socket; only this user sees the answer.
      const host = ctx.req.headers.host ?? '127.0.0.1';
      const scheme = (ctx.req.socket as { encrypted?: boolean }).encrypted ? 'wss' : 'ws';
      const query = new URLSearchParams({ ticket: ticket.ticket, session: ticket.session });
      reply(ctx, 201, {
        ticket: ticket.ticket,
        expires_at: new Date(ticket.expiresAt).toISOString(),
        session: ticket.session,
        url: `${scheme}://${host}/api/v1/agents/${encodeURIComponent(agent.agentId)}/attach?${query}`,
      });
    })
    .on('GET', '/api/v1/agents/:id/attach', async (ctx) => {
      await agentOf(ctx, options.backend);
      throw new ApiError(426, 'UPGRADE_REQUIRED', 'Open this as a WebSocket (subprotocol v5.channel.k8s.io)', {
        upgrade: 'websocket',
      });
    });
}
