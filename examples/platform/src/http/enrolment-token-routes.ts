import type { Logger } from '@forge/core';
import { ApiError } from '../api-error.js';
import { reply, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import { parseBody } from './parse-body.js';
import type { RemoteAgentsView } from './remote-agents-view.js';
import { EnrolmentTokenBody } from './rest-schemas.js';
import type { Router } from './router.js';

/** Seed 001's operator action over the API: issuing enrolment tokens takes an admin key. */
export function enrolmentTokenRoutes(
  router: Router<ApiContext>,
  options: { remoteAgents: RemoteAgentsView | undefined; logger: Logger },
): void {
  router.on('POST', '/api/v1/remote-agents/tokens', async (ctx) => {
    if (!ctx.principal.admin)
      throw new ApiError(403, 'ADMIN_REQUIRED', 'Issuing enrolment tokens takes an admin key (FORGE_ADMIN_USERS)');
    const body = parseBody(EnrolmentTokenBody, readObject(await readJson(ctx.req)), {
      name: 'INVALID_AGENT_NAME',
      ttl_ms: 'INVALID_TTL',
    });
    if (!options.remoteAgents)
      throw new ApiError(409, 'REMOTE_AGENTS_DISABLED', 'This platform runs no dial-home hub (FORGE_HUB_PORT)');
    const issued = options.remoteAgents.issueToken({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.ttl_ms !== undefined ? { ttlMs: body.ttl_ms } : {}),
    });
    options.logger.info('enrolment token issued over the API', {
      userId: ctx.principal.userId,
      tokenId: issued.token_id,
    });
    await ctx.audit('enrolment_token.issued', issued.token_id, {
      ...(issued.name !== undefined ? { name: issued.name } : {}),
      expires_at: issued.expires_at,
    });
    reply(ctx, 201, issued);
  });
}
