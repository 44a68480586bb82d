import type { ErrorInfo } from './schemas.js';

/* What a Forge error says about an OpenCode `ErrorInfo` (a session.error, an assistant message's error). */

/** `APIError` → `OPENCODE_API_ERROR`, `MessageAbortedError` → `OPENCODE_MESSAGE_ABORTED_ERROR`. */
export function errorCode(info: ErrorInfo): string {
  const snake = info.name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
  return `OPENCODE_${snake}`;
}

export function errorMessage(info: ErrorInfo): string {
  const msg = info.data?.message;
  return msg ? `${info.name}: ${msg}` : info.name;
}

/** OpenCode marks the errors a retry may cure with `data.isRetryable`. */
export function errorRetryable(info: ErrorInfo): boolean {
  return (info.data as { isRetryable?: unknown } | undefined)?.isRetryable === true;
}
