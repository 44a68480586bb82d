import { ForgeError, ProviderError, TransportError } from '@forge/core';

/** Stable codes of the errors this adapter reports. */
export const ACP_ERROR_CODES = {
  /** The agent process ended while a run was using it (retryable: the next run starts a new one). */
  processExited: 'ACP_PROCESS_EXITED',
  /** `initialize` failed, timed out, or the agent speaks another protocol version. */
  initializeFailed: 'ACP_INITIALIZE_FAILED',
  /** `session/load` / `session/resume` could not find the session. */
  sessionNotFound: 'ACP_SESSION_NOT_FOUND',
  /** Another run is using the same session right now. */
  sessionBusy: 'ACP_SESSION_BUSY',
  /** The agent answered a request with a JSON-RPC error (see `details.rpcCode`). */
  rpcError: 'ACP_RPC_ERROR',
  /** The model API failed (an HTTP status the agent passed on). */
  apiError: 'API_ERROR',
  /** The agent has been closed. */
  agentClosed: 'AGENT_CLOSED',
} as const;

/** A `session/prompt` stop reason other than `end_turn` / `cancelled`, as a result error code. */
export function stopReasonCode(stopReason: string): string {
  return stopReason.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

interface RpcErrorLike {
  code: number;
  message: string;
  data?: unknown;
}

function isRpcError(error: unknown): error is RpcErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as RpcErrorLike).code === 'number' &&
    typeof (error as RpcErrorLike).message === 'string'
  );
}

function describeData(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  if (typeof data === 'object' && typeof (data as { details?: unknown }).details === 'string')
    return (data as { details: string }).details;
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

/** An HTTP status in the agent's error: Gemini uses it as the JSON-RPC code, claude-code-acp writes "API Error: 500". */
function httpStatus(error: RpcErrorLike): number | undefined {
  if (error.code >= 400 && error.code < 600) return error.code;
  const m = /API Error: (\d{3})\b/.exec(error.message) ?? /"code":\s*(\d{3})\b/.exec(error.message);
  return m ? Number(m[1]) : undefined;
}

/**
 * Turns what an ACP request rejected with into a ForgeError: the agent's JSON-RPC errors become
 * `ProviderError`s (a model API failure the agent passed on: `API_ERROR`, retryable for 429 and 5xx),
 * a closed connection a retryable `TransportError`.
 */
export function fromRpcError(error: unknown, method: string): ForgeError {
  if (error instanceof ForgeError) return error;
  if (isRpcError(error)) {
    const data = describeData(error.data);
    const message = `${method}: ${error.message}${data && !error.message.includes(data) ? ` (${data})` : ''}`;
    const details = { method, rpcCode: error.code, ...(error.data !== undefined ? { data: error.data } : {}) };
    const status = httpStatus(error);
    if (status !== undefined) {
      return new ProviderError(ACP_ERROR_CODES.apiError, message, {
        retryable: status === 429 || status >= 500,
        details: { ...details, status },
        cause: error,
      });
    }
    if (error.code === -32002) {
      return new ProviderError(ACP_ERROR_CODES.sessionNotFound, message, { details, cause: error });
    }
    return new ProviderError(ACP_ERROR_CODES.rpcError, message, { details, cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new TransportError(ACP_ERROR_CODES.processExited, `${method}: ${text}`, { cause: error });
}
