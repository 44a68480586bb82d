import { Code, ConnectError } from '@connectrpc/connect';
import { ForgeError } from '@forge/core';
import { toForgeError } from '@forge/transport-grpc/internal';
import type { DialState } from './dial-state.js';
import { DialHomeCodes } from './errors.js';

/** Refusals that dialling again cannot fix. */
const FATAL = new Set<Code>([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.Unimplemented,
]);

export const asForge = (error: unknown, url: string): ForgeError => toForgeError(error, `the platform at ${url}`);

/** Dialling ends for good. */
export class Fatal extends Error {
  constructor(readonly error: ForgeError) {
    super(error.message);
  }
}

/**
 * A failed attempt, as the ForgeError to report before dialling again; throws a Fatal when dialling
 * again cannot help (a refused credential without a token to fall back on, a refused token, a name
 * taken, a replaced session).
 */
export function classifyFailure(state: DialState, error: unknown, phase: 'enroll' | 'attach'): ForgeError {
  const { options, logger } = state;
  if (error instanceof Fatal) throw error;
  const e = asForge(error, options.url);
  if (error instanceof ConnectError && FATAL.has(error.code)) {
    if (
      phase === 'attach' &&
      (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied) &&
      options.enrolmentToken &&
      !state.tokenTried
    ) {
      // The stored credential is refused, but a token was given: enrol again with it.
      logger.warn('the stored credential was refused; enrolling with the enrolment token', { error: e.code });
      state.forceEnrol = true;
      state.credentialRefusal = e;
      return e;
    }
    if (phase === 'enroll' && state.credentialRefusal) {
      // The real news is the refused credential (revoked, most often); the token was a fallback.
      const r = state.credentialRefusal;
      throw new Fatal(
        new ForgeError(
          r.code,
          `${r.message}; enrolling again with the enrolment token failed too: ${e.message}`,
          r.category,
          {
            retryable: false,
            cause: e,
            ...(r.details ? { details: r.details } : {}),
          },
        ),
      );
    }
    throw new Fatal(e);
  }
  if (e.code === DialHomeCodes.CREDENTIAL_FILE || e.code === DialHomeCodes.REPLACED) throw new Fatal(e);
  // Enrolling under a name another agent holds: trying again will not free it.
  if (phase === 'enroll' && e.code === DialHomeCodes.NAME_TAKEN) throw new Fatal(e);
  return e;
}
