import { randomBytes } from 'node:crypto';
import type { Clock } from '@forge/core';
import type { StoredApiKey, StoredApiKeys } from '@forge/store';
import { ApiError } from '../api-error.js';
import { hashKey } from '../api-keys.js';
import { ISSUED_KEY_PREFIX } from '../key-authenticator.js';
import { reply, type ApiContext } from './context.js';
import { readJson, readObject } from './io.js';
import { ApiKeyBody } from './operator-schemas.js';
import { parseBody } from './parse-body.js';
import type { Router } from './router.js';

const KEY_ID = /^key_[0-9a-f]{20}$/;
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** Issuing, listing and revoking keys is an operator's: 403 for any other key. */
export function requireAdmin(ctx: ApiContext, what: string): void {
  if (!ctx.principal.admin) throw new ApiError(403, 'ADMIN_REQUIRED', `${what} takes an admin key`);
}

function keyJson(k: StoredApiKey) {
  return {
    id: k.keyId,
    user: k.userId,
    admin: k.admin,
    created_at: iso(k.createdAt)!,
    ...(k.createdBy ? { created_by: k.createdBy } : {}),
    expires_at: iso(k.expiresAt),
  };
}

/**
 * `POST/GET /api/v1/api-keys`, `DELETE /api/v1/api-keys/:id` (admin keys): keys kept in the store, hashed. The key
 * is in the answer to POST only; GET shows neither it nor its hash. A revoked key is refused at the next request on
 * every replica (KeyAuthenticator reads its row each time).
 */
export function apiKeyRoutes(router: Router<ApiContext>, options: { keys: StoredApiKeys; clock: Clock }): void {
  const { keys, clock } = options;
  router
    .on('POST', '/api/v1/api-keys', async (ctx) => {
      requireAdmin(ctx, 'Issuing API keys');
      const body = parseBody(ApiKeyBody, readObject(await readJson(ctx.req)), {
        user: 'INVALID_USER',
        expires_at: 'INVALID_EXPIRES_AT',
        admin: 'INVALID_ADMIN',
      });
      const now = clock.now();
      const expiresAt = body.expires_at === undefined ? undefined : Date.parse(body.expires_at);
      if (expiresAt !== undefined && expiresAt <= now)
        throw new ApiError(400, 'INVALID_EXPIRES_AT', 'expires_at must be in the future', {}, { field: 'expires_at' });
      const key = `${ISSUED_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const stored = await keys.insert({
        keyId: `key_${randomBytes(10).toString('hex')}`,
        userId: body.user,
        hash: hashKey(key).toString('hex'),
        admin: body.admin === true,
        createdAt: now,
        createdBy: ctx.principal.userId,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      });
      await ctx.audit('api_key.issued', stored.keyId, {
        user: stored.userId,
        admin: stored.admin,
        expires_at: iso(stored.expiresAt),
      });
      reply(ctx, 201, { ...keyJson(stored), key });
    })
    .on('GET', '/api/v1/api-keys', async (ctx) => {
      requireAdmin(ctx, 'Listing API keys');
      const list = await keys.list();
      reply(ctx, 200, {
        keys: list.map((k) => ({ ...keyJson(k), last_used_at: iso(k.lastUsedAt), revoked_at: iso(k.revokedAt) })),
      });
    })
    .on('DELETE', '/api/v1/api-keys/:id', async (ctx) => {
      requireAdmin(ctx, 'Revoking API keys');
      const id = ctx.params.id!;
      const revoked = KEY_ID.test(id) ? await keys.revoke(id, clock.now()) : undefined;
      if (!revoked) throw new ApiError(404, 'API_KEY_NOT_FOUND', `No live API key ${id}`);
      await ctx.audit('api_key.revoked', revoked.keyId, { user: revoked.userId });
      reply(ctx, 200, { id: revoked.keyId, revoked: true, revoked_at: iso(revoked.revokedAt)! });
    });
}
