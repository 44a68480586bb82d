import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ForgeError,
  isForgeError,
  NotFoundError,
  ProviderError,
  TransportError,
  UnsupportedError,
  UnsupportedFieldError,
  ValidationError,
  type AgentResult,
  type ErrorCategory,
} from '@forge/core';
import { ErrorInfoSchema, type ErrorInfo } from './gen/forge/agent/v1/agent_pb.js';
import { fromJsonObject, toJsonText } from './json-text.js';

/** Trailer keys carrying a ForgeError's identity across gRPC, so the client can rebuild it. */
export const ERROR_CODE_KEY = 'forge-error-code';
export const ERROR_CATEGORY_KEY = 'forge-error-category';
export const ERROR_RETRYABLE_KEY = 'forge-error-retryable';

/** Codes of errors this transport makes itself. */
export const TransportCodes = {
  /** The agent could not be reached (connection refused, DNS, TLS…). Retryable. */
  UNAVAILABLE: 'AGENT_UNAVAILABLE',
  /** The call's deadline passed before the agent answered. Retryable. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The link broke while a run was live; the run's outcome on the agent is unknown. */
  TRANSPORT_BROKEN: 'TRANSPORT_BROKEN',
  /** The agent is draining and refuses new runs. Retryable (elsewhere, or later). */
  SHUTTING_DOWN: 'AGENT_SHUTTING_DOWN',
  /** The agent's TLS certificate was not trusted (or TLS failed otherwise). Not retryable: fix the config. */
  TLS: 'AGENT_TLS_ERROR',
  /** The agent runs as many runs as it may (serveAgent's maxRuns). Retryable. */
  BUSY: 'AGENT_BUSY',
  /** The client was closed while the run was live. */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
} as const;

const CATEGORIES: readonly ErrorCategory[] = [
  'validation',
  'provider',
  'transport',
  'not_found',
  'conflict',
  'unsupported',
  'internal',
];

/** Anything thrown on either side of a link, as a ForgeError: Connect's errors read as the peer meant them. */
export function toForgeError(error: unknown, target = 'the agent'): ForgeError {
  if (error instanceof ConnectError && !isForgeError(error)) return forgeErrorFromConnect(error, target);
  return ForgeError.from(error);
}

export function errorInfoFromError(error: unknown): ErrorInfo {
  const e = toForgeError(error);
  return create(ErrorInfoSchema, {
    code: e.code,
    message: e.message,
    category: e.category,
    retryable: e.retryable,
    detailsJson: toJsonText(e.details),
  });
}

/** Rebuilds the typed error the server described, so `instanceof ValidationError` etc. hold. */
export function forgeErrorFromInfo(info: ErrorInfo | undefined): ForgeError {
  if (!info) return new ForgeError('INTERNAL_ERROR', 'The agent reported an error without saying what', 'internal');
  const category = (CATEGORIES as string[]).includes(info.category) ? (info.category as ErrorCategory) : 'internal';
  return makeForgeError(info.code, info.message, category, info.retryable, fromJsonObject(info.detailsJson));
}

function makeForgeError(
  code: string,
  message: string,
  category: ErrorCategory,
  retryable: boolean,
  details?: Record<string, unknown>,
): ForgeError {
  const opts = { retryable, ...(details ? { details } : {}) };
  switch (category) {
    case 'validation':
      return new ValidationError(code, message, Array.isArray(details?.issues) ? (details.issues as []) : [], opts);
    case 'provider':
      return new ProviderError(code, message, opts);
    case 'transport':
      return new TransportError(code, message, opts);
    case 'not_found':
      return new NotFoundError(code, message, details);
    case 'unsupported':
      return unsupportedError(code, message, retryable, details);
    default:
      return new ForgeError(code, message, category, opts);
  }
}

/**
 * An UnsupportedError (UnsupportedFieldError for UNSUPPORTED_FIELD) when the details name what core's constructors
 * make the message from, so `instanceof` holds on this side too; otherwise a plain ForgeError keeping the message.
 */
function unsupportedError(
  code: string,
  message: string,
  retryable: boolean,
  details: Record<string, unknown> | undefined,
): ForgeError {
  const { provider, feature, fields, ...rest } = details ?? {};
  if (typeof provider === 'string' && typeof feature === 'string') {
    const isFields = Array.isArray(fields) && fields.every((f) => typeof f === 'string');
    const rebuilt =
      code === 'UNSUPPORTED_FIELD' && isFields
        ? new UnsupportedFieldError(provider, fields as string[])
        : new UnsupportedError(provider, feature, code, fields === undefined ? rest : { fields, ...rest });
    if (rebuilt.message === message && rebuilt.retryable === retryable) return rebuilt;
  }
  return new ForgeError(code, message, 'unsupported', { retryable, ...(details ? { details } : {}) });
}

function grpcCodeFor(e: ForgeError): Code {
  switch (e.category) {
    case 'validation':
      return Code.InvalidArgument;
    case 'not_found':
      return Code.NotFound;
    case 'conflict':
      return e.code === 'RUN_EXISTS' ? Code.AlreadyExists : Code.FailedPrecondition;
    case 'unsupported':
      return Code.Unimplemented;
    case 'transport':
      return e.code === TransportCodes.BUSY ? Code.ResourceExhausted : Code.Unavailable;
    default:
      return Code.Internal;
  }
}

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_DESTROYED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_ERROR',
]);

/** The Node.js error code (ECONNRESET, DEPTH_ZERO_SELF_SIGNED_CERT…) somewhere in the cause chain. */
function nodeErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Server side: any error as a ConnectError whose trailers say which ForgeError it was. */
export function forgeErrorToConnect(error: unknown): ConnectError {
  if (error instanceof ConnectError && !(error.cause instanceof ForgeError)) return error;
  const e = toForgeError(error);
  const details = e instanceof ValidationError ? { ...e.details, issues: e.issues } : e.details;
  const metadata = new Headers({
    [ERROR_CODE_KEY]: e.code,
    [ERROR_CATEGORY_KEY]: e.category,
    [ERROR_RETRYABLE_KEY]: String(e.retryable),
  });
  if (details) metadata.set('forge-error-details-bin', Buffer.from(JSON.stringify(details)).toString('base64'));
  return new ConnectError(e.message, grpcCodeFor(e), metadata, undefined, e);
}

/**
 * Client side: a ConnectError as a ForgeError. Errors the agent raised keep their code and
 * category; failures to reach it become retryable TransportErrors.
 */
export function forgeErrorFromConnect(error: ConnectError, target = 'the agent'): ForgeError {
  const code = error.metadata.get(ERROR_CODE_KEY);
  if (code) {
    const category = (error.metadata.get(ERROR_CATEGORY_KEY) ?? 'internal') as ErrorCategory;
    const detailsB64 = error.metadata.get('forge-error-details-bin');
    let details: Record<string, unknown> | undefined;
    if (detailsB64) details = fromJsonObject(Buffer.from(detailsB64, 'base64').toString('utf8'));
    return makeForgeError(
      code,
      error.rawMessage,
      category,
      error.metadata.get(ERROR_RETRYABLE_KEY) === 'true',
      details,
    );
  }
  const grpc = Code[error.code]?.toLowerCase() ?? String(error.code);
  const details = { grpcCode: grpc };
  const nodeCode = nodeErrorCode(error);
  if (nodeCode && TLS_CODE.test(nodeCode)) {
    return new TransportError(TransportCodes.TLS, `Could not reach ${target} over TLS: ${error.rawMessage}`, {
      cause: error,
      retryable: false,
      details: { ...details, nodeCode },
    });
  }
  if (nodeCode && NETWORK_CODES.has(nodeCode)) {
    return new TransportError(TransportCodes.UNAVAILABLE, `Could not reach ${target}: ${error.rawMessage}`, {
      cause: error,
      details: { ...details, nodeCode },
    });
  }
  switch (error.code) {
    case Code.Unavailable:
      return new TransportError(TransportCodes.UNAVAILABLE, `Could not reach ${target}: ${error.rawMessage}`, {
        cause: error,
        details,
      });
    case Code.DeadlineExceeded:
      return new TransportError(
        TransportCodes.DEADLINE_EXCEEDED,
        `${target} did not answer in time: ${error.rawMessage}`,
        { cause: error, details },
      );
    case Code.Canceled:
      return new ForgeError('CANCELLED', error.rawMessage, 'internal', { cause: error, details });
    case Code.Unimplemented:
      return new ForgeError(
        'UNSUPPORTED',
        `${target} does not implement this call: ${error.rawMessage}`,
        'unsupported',
        { cause: error, details },
      );
    case Code.InvalidArgument:
      return new ValidationError('INVALID_REQUEST', error.rawMessage, [], { cause: error, details });
    case Code.NotFound:
      return new NotFoundError('NOT_FOUND', error.rawMessage, details);
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return new TransportError(`AGENT_${grpc.toUpperCase()}`, `${target} refused the call: ${error.rawMessage}`, {
        cause: error,
        details,
        retryable: false,
      });
    default:
      return new ProviderError('REMOTE_ERROR', `${target} failed: ${error.rawMessage}`, { cause: error, details });
  }
}

const RETRYABLE_TRANSPORT = new Set<string>([
  TransportCodes.UNAVAILABLE,
  TransportCodes.DEADLINE_EXCEEDED,
  TransportCodes.TRANSPORT_BROKEN,
  TransportCodes.SHUTTING_DOWN,
  TransportCodes.BUSY,
]);

/**
 * The typed error behind a run's result: a TransportError when the link failed (retryable for
 * "could not reach", "broke", "draining", "busy"; not for a refused token), a ProviderError
 * carrying the agent's own code when the agent ran and failed or timed out. Undefined for a
 * completed run, and for a cancelled one (the caller asked for it).
 */
export function runError(result: AgentResult): ForgeError | undefined {
  if (result.status === 'completed' || result.status === 'cancelled') return undefined;
  const { code, message } = result.error ?? { code: 'PROVIDER_ERROR', message: 'The run failed' };
  if (RETRYABLE_TRANSPORT.has(code)) return new TransportError(code, message, { retryable: true });
  if (code === 'AGENT_UNAUTHENTICATED' || code === 'AGENT_PERMISSION_DENIED')
    return new TransportError(code, message, { retryable: false });
  return new ProviderError(code, message, { details: { status: result.status } });
}
