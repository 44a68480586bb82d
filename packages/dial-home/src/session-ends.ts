import type { SessionEnd } from './agent-session.js';
import { Code, refuse, type ConnectError } from './connect-errors.js';
import { DialHomeCodes } from './errors.js';

/** What an agent whose credential was revoked is told, at its next call or as its session ends. */
export const revokedError = (agentId: string): ConnectError =>
  refuse(Code.PermissionDenied, DialHomeCodes.CREDENTIAL_REVOKED, `The credential of agent ${agentId} was revoked`, {
    agentId,
  });

/** How a live session ends when its credential is revoked (here, or by another hub on the same store). */
export const revokedEnd = (agentId: string): SessionEnd => ({
  reason: 'revoked',
  message: 'the credential was revoked',
  error: revokedError(agentId),
});

/** How a session ends when a newer connection of the same agent took over (`why` is for the hub's log). */
export const replacedEnd = (agentId: string, why: string): SessionEnd => ({
  reason: 'replaced',
  message: why,
  error: refuse(
    Code.Aborted,
    DialHomeCodes.REPLACED,
    'A newer connection with this agent credential took over the session',
    {
      agentId,
    },
  ),
});
