import { z } from 'zod';
import { AUDIT_ACTIONS } from '../audit-trail.js';
import { RUN_STATUSES } from './list-filters.js';
import type { Operation } from './openapi.js';
import * as O from './operator-schemas.js';

const BODY_ERRORS = { 408: 'BODY_TIMEOUT', 413: 'BODY_TOO_LARGE (1 MiB)' };
const time = (what: string) => ({
  schema: z.iso.datetime({ offset: true }),
  description: `${what} (RFC 3339 with its zone).`,
});

const STATUS = RUN_STATUSES.join('|');

/** Query parameters of `GET /api/v1/agents/{id}/runs` beyond its paging (openapi.ts spreads them in). */
export const RUN_FILTER_QUERY = {
  status: {
    schema: z.string().regex(new RegExp(`^(${STATUS})(,(${STATUS}))*$`)),
    description: 'Only runs in these statuses, comma-separated.',
  },
  since: time('Only runs created at or after this time'),
  until: time('Only runs created before this time'),
};
export const RUN_FILTER_ERRORS = 'INVALID_STATUS, INVALID_SINCE, INVALID_UNTIL, INVALID_TIME_RANGE';

/** Query parameters of `GET /api/v1/agents`. */
export const AGENT_FILTER_QUERY = {
  provider: { schema: z.string(), description: 'Only agents of this provider.' },
  state: { schema: z.enum(['starting', 'ready', 'gone']), description: 'Only agents in this state.' },
};

/** The operator's routes in the OpenAPI document: API keys and the audit log (admin keys). */
export const OPERATOR_OPERATIONS: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>> = {
  '/api/v1/api-keys': {
    post: {
      summary: 'Issue an API key for a user (admin keys): the key is in this answer only, and stored hashed',
      body: O.ApiKeyBody,
      ok: [201, O.ApiKeyIssued],
      errors: {
        400:
          'INVALID_JSON, INVALID_BODY, UNKNOWN_FIELD, INVALID_USER, INVALID_ADMIN, INVALID_EXPIRES_AT (not RFC 3339 ' +
          'or not in the future)',
        ...BODY_ERRORS,
        403: 'ADMIN_REQUIRED',
      },
    },
    get: {
      summary:
        'Every issued key (admin keys): ids, users, admin flag, created, expires, last used, revoked — never the key',
      ok: [200, O.ApiKeyList],
      errors: { 403: 'ADMIN_REQUIRED' },
    },
  },
  '/api/v1/api-keys/{id}': {
    delete: {
      summary: 'Revoke an issued key (admin keys): every replica refuses it from its next request',
      ok: [200, O.ApiKeyRevoked],
      errors: { 403: 'ADMIN_REQUIRED', 404: 'API_KEY_NOT_FOUND (unknown, or revoked already)' },
    },
  },
  '/api/v1/audit': {
    get: {
      summary: 'The append-only audit log, newest first (admin keys)',
      query: {
        since: time('Entries at or after this time'),
        until: time('Entries before this time'),
        action: { schema: z.enum(AUDIT_ACTIONS), description: 'Only this action.' },
        user: { schema: z.string(), description: 'Only what this user did.' },
        limit: { schema: z.string().regex(/^\d+$/), description: '1 to 500, default 50.' },
        cursor: { schema: z.string().regex(/^\d{1,16}$/), description: 'next_cursor of the previous page.' },
      },
      ok: [200, O.AuditList],
      errors: {
        400: 'INVALID_SINCE, INVALID_UNTIL, INVALID_TIME_RANGE, INVALID_ACTION, INVALID_USER, INVALID_LIMIT, INVALID_CURSOR',
        403: 'ADMIN_REQUIRED',
      },
    },
  },
};
