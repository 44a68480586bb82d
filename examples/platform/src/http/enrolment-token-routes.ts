import type { Logger } from '@forge/core';
import { z } from 'zod';
import { ApiError } from '../api-error.js';
import type { RemoteAgentsView } from './api.js';
import { reply, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import { parseBody } from './parse-body.js';
import type { Router } from './router.js';

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

export const EnrolmentTokenResponse = z.strictObject({
  token: z.string().describe('Single use; the agent sets it as FORGE_ENROLMENT_TOKEN on its first start.'),
  token_id: z.string(),
  expires_at: z.iso.datetime(),
  name: z.string().optional(),
  hub_url: z.string().describe('Where agents dial (FORGE_HUB_URL).'),
  join_command: z.string().describe('One line that starts examples/remote-agent on another machine with this token.'),
});

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
    reply(ctx, 201, issued);
  });
}
