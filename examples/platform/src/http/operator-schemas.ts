import { z } from 'zod';
import { AUDIT_ACTIONS } from '../audit-trail.js';

/**
 * Bodies of the operator's routes (API keys, the audit log), validated with these and documented from them, as
 * rest-schemas.ts does for the rest.
 */

const USER = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63');

/** `POST /api/v1/api-keys`. */
export const ApiKeyBody = z.strictObject({
  user: USER.describe('The user the key acts as.'),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('When the key stops working (RFC 3339, future).'),
  admin: z.boolean().optional().describe('An operator’s key: may issue and revoke keys, read the audit log.'),
});

const ApiKeyFields = {
  id: z.string().describe('The key’s id (key_…): what DELETE takes and the audit log names.'),
  user: z.string(),
  admin: z.boolean(),
  created_at: z.iso.datetime(),
  created_by: z.string().optional(),
  expires_at: z.iso.datetime().nullable(),
};

export const ApiKeyIssued = z.strictObject({
  ...ApiKeyFields,
  key: z.string().describe('The key itself (forge_sk_…), shown this once: only its hash is kept.'),
});

export const ApiKeyInfo = z.strictObject({
  ...ApiKeyFields,
  last_used_at: z.iso.datetime().nullable().describe('Written at most once a minute per key.'),
  revoked_at: z.iso.datetime().nullable(),
});

export const ApiKeyList = z.strictObject({ keys: z.array(ApiKeyInfo) });

export const ApiKeyRevoked = z.strictObject({ id: z.string(), revoked: z.literal(true), revoked_at: z.iso.datetime() });

export const AuditEntryJson = z.strictObject({
  id: z.string(),
  at: z.iso.datetime(),
  actor: z.strictObject({
    user_id: z.string().nullable(),
    key_id: z.string().nullable().describe('The issued key’s id, or "bootstrap" for a key from the environment.'),
  }),
  action: z.enum(AUDIT_ACTIONS),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const AuditList = z.strictObject({
  entries: z.array(AuditEntryJson),
  next_cursor: z.string().optional(),
});
