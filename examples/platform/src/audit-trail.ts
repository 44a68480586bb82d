import type { Logger } from '@forge/core';
import type { AuditLog } from '@forge/store';
import type { Principal } from './api-keys.js';

/** What the audit log records; GET /api/v1/audit filters by these. */
export const AUDIT_ACTIONS = [
  'api_key.issued',
  'api_key.revoked',
  'agent.created',
  'agent.deleted',
  'attach.opened',
  'attach.ended',
  'permission.decided',
  'question.answered',
  'enrolment_token.issued',
  'remote_agent.revoked',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: the user, and the issued key's id (`bootstrap` for a key from the environment or the key file). */
export const actorOf = (p: Pick<Principal, 'userId' | 'apiKeyId'>) => ({
  userId: p.userId,
  keyId: p.apiKeyId ?? 'bootstrap',
});

export type Actor = ReturnType<typeof actorOf>;

/** Records one action; never throws (the action has happened: a failed write is logged, not the request failed). */
export type AuditRecorder = (
  action: AuditAction,
  target: string | undefined,
  details?: Record<string, unknown>,
) => Promise<void>;

/** A recorder for one actor, appending to the store's audit log (nothing without one). */
export function auditRecorder(log: AuditLog | undefined, actor: Actor, logger?: Logger): AuditRecorder {
  return async (action, target, details = {}) => {
    if (!log) return;
    try {
      await log.append({ actor, action, ...(target !== undefined ? { target } : {}), details });
    } catch (error) {
      logger?.error('could not write an audit entry', { action, target, error: String(error) });
    }
  };
}
