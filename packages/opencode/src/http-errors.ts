import { NotFoundError, ProviderError, TransportError, type ForgeError } from '@forge/core';

const EXCERPT_CHARS = 500;

export function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/**
 * A non-2xx answer from the OpenCode server. 404 is NOT_FOUND (unknown session or permission),
 * 5xx is retryable (the server may recover), other 4xx are provider errors nobody should retry.
 */
export function httpStatusError(method: string, path: string, status: number, body: string): ForgeError {
  const text = excerpt(body);
  const message = `OpenCode ${method} ${path} answered ${status}${text ? `: ${text}` : ''}`;
  const details = { method, path, status, body: text };
  if (status === 404) return new NotFoundError('OPENCODE_NOT_FOUND', message, details);
  return new ProviderError('OPENCODE_HTTP_ERROR', message, { retryable: status >= 500 || status === 429, details });
}

/** The server could not be reached at all (refused, reset, DNS, per-request timeout). */
export function unreachableError(method: string, path: string, cause: unknown): TransportError {
  const reason = cause instanceof Error ? describeCause(cause) : String(cause);
  return new TransportError('OPENCODE_UNREACHABLE', `OpenCode ${method} ${path} failed: ${reason}`, {
    cause,
    details: { method, path },
  });
}

function describeCause(error: Error): string {
  const inner = (error as { cause?: unknown }).cause;
  if (inner instanceof Error && inner.message)
    return `${error.message} (${(inner as NodeJS.ErrnoException).code ?? inner.message})`;
  return error.message;
}
