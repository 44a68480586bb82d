import { Code, ConnectError } from '@connectrpc/connect';
import { ForgeError } from '@forge/core';
import { forgeErrorToConnect } from '@forge/transport-grpc';

/**
 * A ForgeError as a ConnectError with the gRPC code we choose (transport's mapping goes by
 * category; a refused token is Unauthenticated whatever its category), keeping the trailers
 * that let the agent rebuild the ForgeError with `forgeErrorFromConnect`.
 */
export function refusal(code: Code, error: ForgeError): ConnectError {
  const base = forgeErrorToConnect(error);
  return new ConnectError(error.message, code, base.metadata, undefined, error);
}

export function refuse(
  code: Code,
  forgeCode: string,
  message: string,
  details?: Record<string, unknown>,
): ConnectError {
  return refusal(
    code,
    new ForgeError(forgeCode, message, 'transport', { retryable: false, ...(details ? { details } : {}) }),
  );
}

export { Code, ConnectError };
