import type { AuditEntry, AuditLog } from '@forge/store';
import { ApiError } from '../api-error.js';
import { USER_ID } from '../api-keys.js';
import { AUDIT_ACTIONS, type AuditAction } from '../audit-trail.js';
import { requireAdmin } from './api-key-routes.js';
import { reply, type ApiContext } from './context.js';
import { cursorOf } from './identifiers.js';
import { timeRangeOf } from './list-filters.js';
import type { Router } from './router.js';

function limitOf(text: string | null): number {
  if (text === null) return 50;
  const n = Number(text);
  if (!/^\d{1,3}$/.test(text) || n < 1 || n > 500) throw new ApiError(400, 'INVALID_LIMIT', 'limit must be 1 to 500');
  return n;
}

function entryJson(e: AuditEntry) {
  return {
    id: String(e.id),
    at: new Date(e.at).toISOString(),
    actor: { user_id: e.actor.userId ?? null, key_id: e.actor.keyId ?? null },
    action: e.action as AuditAction,
    target: e.target ?? null,
    details: e.details,
  };
}

/** `GET /api/v1/audit` (admin keys): the audit log, newest first, by time, action and user, paged. */
export function auditRoutes(router: Router<ApiContext>, options: { audit: AuditLog }): void {
  router.on('GET', '/api/v1/audit', async (ctx) => {
    requireAdmin(ctx, 'Reading the audit log');
    const q = ctx.url.searchParams;
    const range = timeRangeOf(q);
    const action = q.get('action');
    if (action !== null && !AUDIT_ACTIONS.includes(action as AuditAction))
      throw new ApiError(400, 'INVALID_ACTION', `action must be one of ${AUDIT_ACTIONS.join(', ')}`);
    const user = q.get('user');
    if (user !== null && !USER_ID.test(user)) throw new ApiError(400, 'INVALID_USER', 'user must be a user id');
    const limit = limitOf(q.get('limit'));
    const before = cursorOf(q.get('cursor'));
    const page = await options.audit.list({
      ...range,
      ...(action !== null ? { action } : {}),
      ...(user !== null ? { userId: user } : {}),
      ...(before !== undefined ? { before } : {}),
      limit: limit + 1,
    });
    const shown = page.slice(0, limit);
    reply(ctx, 200, {
      entries: shown.map(entryJson),
      ...(page.length > limit ? { next_cursor: String(shown.at(-1)!.id) } : {}),
    });
  });
}
