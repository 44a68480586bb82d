/**
 * The codes `@forge/codex` puts on errors, `error` events and results (besides core's, e.g.
 * `PROCESS_SPAWN_FAILED`, `UNSUPPORTED`, `CANCELLED`, `TIMED_OUT`).
 */
export const CodexErrorCode = {
  /** The model API refused the key (HTTP 401/403). */
  API_AUTH_ERROR: 'API_AUTH_ERROR',
  /** HTTP 429 after the CLI's retries. Retryable. */
  API_RATE_LIMITED: 'API_RATE_LIMITED',
  /** HTTP 400 or another 4xx. */
  API_REQUEST_ERROR: 'API_REQUEST_ERROR',
  /** HTTP 5xx. Retryable. */
  API_SERVER_ERROR: 'API_SERVER_ERROR',
  /** `response.failed` or a cut connection. Retryable. */
  API_STREAM_ERROR: 'API_STREAM_ERROR',
  /** Any other model failure the CLI reported. */
  API_ERROR: 'API_ERROR',
  /** An `error` event: the CLI will try again (`Reconnecting...`). Retryable. */
  API_RETRY: 'API_RETRY',
  /** An `error` event for an `error` item: a warning, the run goes on. */
  AGENT_WARNING: 'AGENT_WARNING',
  /** An `error` event: a stdout line over `maxLineBytes` was skipped. */
  LINE_TOO_LONG: 'LINE_TOO_LONG',
  /** `exec resume` of an id the CLI has no session for (unknown, or made with `--ephemeral`). */
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  /**
   * app-server: a run asked for a session whose thread is running another run's turn, or that another app server
   * (another agent on the same CODEX_HOME) holds.
   */
  SESSION_BUSY: 'SESSION_BUSY',
  /** app-server: an MCP server of `request.mcpServers` could not start (Codex holds them required). */
  MCP_SERVER_FAILED: 'MCP_SERVER_FAILED',
  /** The npm wrapper ran without its native platform package. */
  CODEX_NOT_INSTALLED: 'CODEX_NOT_INSTALLED',
  /** The CLI refused its configuration or a flag. */
  CODEX_CONFIG_ERROR: 'CODEX_CONFIG_ERROR',
  /** The CLI exited without finishing its turn, for another reason. */
  PROCESS_EXITED: 'PROCESS_EXITED',
} as const;

export type CodexErrorCode = (typeof CodexErrorCode)[keyof typeof CodexErrorCode];
