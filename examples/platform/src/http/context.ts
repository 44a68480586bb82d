import type { Principal } from '../api-keys.js';
import type { AuditRecorder } from '../audit-trail.js';
import { ApiError } from '../api-error.js';
import { AGENT_ID, type AgentBackend, type AgentRecord } from '../backends/backend.js';
import { sendJson } from './io.js';
import type { RouteContext } from './router.js';

/** A request that has passed authentication and the rate limit. */
export interface ApiContext extends RouteContext {
  principal: Principal;
  /** X-RateLimit-* headers, sent with every answer. */
  limits: Record<string, string>;
  /** Appends to the audit log as this request's key (never throws). */
  audit: AuditRecorder;
}

export const reply = (ctx: ApiContext, status: number, body: unknown) => sendJson(ctx.res, status, body, ctx.limits);

/** `?user_id=` may only name the key's own user; any other is answered as if it did not exist. */
export function userOf(ctx: ApiContext, what: 'agent' | 'user'): string {
  const asked = ctx.url.searchParams.get('user_id');
  if (asked !== null && asked !== ctx.principal.userId) {
    throw what === 'agent'
      ? new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${ctx.params.id ?? ''}`.trim())
      : new ApiError(404, 'USER_NOT_FOUND', `No user ${asked}`);
  }
  return ctx.principal.userId;
}

/** The `:id` agent of the key's user, or 404 — the same 404 whether it belongs to someone else or to no one. */
export async function agentOf(ctx: ApiContext, backend: AgentBackend): Promise<AgentRecord> {
  const userId = userOf(ctx, 'agent');
  const id = ctx.params.id!;
  const agent = AGENT_ID.test(id) ? await backend.get(userId, id) : undefined;
  if (!agent) throw new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${id}`);
  return agent;
}
