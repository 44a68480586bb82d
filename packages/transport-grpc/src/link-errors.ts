import { Code, ConnectError } from '@connectrpc/connect';
import type { ForgeError, ErrorCategory } from '@forge/core';
import { ERROR_CODE_KEY, TransportCodes, toForgeError } from './errors.js';
import type { LocalEnd } from '@forge/core/internal';

/** Answers that say the call was refused, not that the link failed. */
const REFUSALS = new Set<Code>([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.Unimplemented,
  Code.InvalidArgument,
  Code.NotFound,
]);

/**
 * How a run ends when its stream failed. `reachedAgent` says whether anything came back on the
 * stream: before that, "could not reach" is certain and retrying is safe; after, the remote run
 * may have done work, so the run ends as TRANSPORT_BROKEN.
 */
export function endForStreamError(error: unknown, target: string, reachedAgent: boolean): LocalEnd {
  if (error === undefined) {
    return {
      status: 'failed',
      code: TransportCodes.TRANSPORT_BROKEN,
      message: `${target} ended the stream before the run completed`,
      errorEvent: { retryable: true, details: { category: 'transport' } },
    };
  }
  const e = toForgeError(error, target);
  const answeredByAgent = error instanceof ConnectError && error.metadata.has(ERROR_CODE_KEY);
  const refused =
    (error instanceof ConnectError && REFUSALS.has(error.code)) || (e.category === 'transport' && !e.retryable);
  if (answeredByAgent || refused) {
    // The agent (or a proxy before it) answered, and refused: the run never started there.
    return endForRemoteError(e);
  }
  if (!reachedAgent && e.code === TransportCodes.UNAVAILABLE) {
    return {
      status: 'failed',
      code: e.code,
      message: e.message,
      errorEvent: { retryable: true, details: { category: 'transport', ...e.details } },
    };
  }
  return {
    status: 'failed',
    code: TransportCodes.TRANSPORT_BROKEN,
    message: `The link to ${target} broke while the run was live: ${e.message}`,
    errorEvent: { retryable: true, details: { category: 'transport', cause: e.code, ...e.details } },
  };
}

/** A run the agent refused to start (shutting down, run id taken, invalid request…). */
export function endForRemoteError(e: ForgeError): LocalEnd {
  const category: ErrorCategory = e.category;
  return {
    status: 'failed',
    code: e.code,
    message: e.message,
    errorEvent: { retryable: e.retryable, details: { category, ...e.details } },
  };
}
