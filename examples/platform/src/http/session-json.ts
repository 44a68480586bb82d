import type { SessionInfo } from '@forge/core';

/** A stored session as the API shows it (never its files, nor the work directory it ran in). */
export function sessionJson(session: SessionInfo): Record<string, unknown> {
  return {
    session_id: session.sessionId,
    provider: session.provider,
    ...(session.title !== undefined ? { title: session.title } : {}),
    created_at: session.createdAt,
    updated_at: session.updatedAt,
    size: session.size,
  };
}
