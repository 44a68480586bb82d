import { ForgeError, type ErrorCategory } from '@forge/core';

/** An error the API answers with as `{ error: { code, message } }` and `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, `${what.toUpperCase()}_NOT_FOUND`, `No ${what} ${id}`);

const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  validation: 400,
  not_found: 404,
  conflict: 409,
  unsupported: 400,
  provider: 502,
  transport: 503,
  internal: 500,
};

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; details?: unknown } };
  /** A 5xx that was not an ApiError: log it whole, show the client a generic message. */
  internal: boolean;
}

/** Maps anything thrown to a response; internal failures are not echoed to the client. */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof ApiError) {
    const body = { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
    return { status: error.status, headers: error.headers, body: { error: body }, internal: false };
  }
  if (error instanceof ForgeError) {
    const status = STATUS_BY_CATEGORY[error.category] ?? 500;
    const issues = (error as { issues?: unknown }).issues;
    const body = {
      code: error.code,
      message: status === 500 ? 'Internal error' : error.message,
      ...(Array.isArray(issues) && issues.length ? { details: { issues } } : {}),
    };
    return { status, headers: {}, body: { error: body }, internal: status === 500 };
  }
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'INTERNAL_ERROR', message: 'Internal error' } },
    internal: true,
  };
}
