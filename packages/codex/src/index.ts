export { CodexErrorCode } from './error-codes.js';
export {
  codex,
  CODEX_PASS_ENV,
  CODEX_TRANSPORTS,
  PROVIDER,
  type CodexOptions,
  type CodexTransport,
} from './agent.js';
export type { AppServerIdleOptions } from './app-server/app-server-pool.js';
export {
  APPROVAL_TOOL_COMMAND,
  APPROVAL_TOOL_EDIT,
  APPROVAL_TOOL_PERMISSIONS,
} from './app-server/server-requests.js';
export {
  CODEX_SANDBOXES,
  type CodexConfigValue,
  type CodexModelProvider,
  type CodexSandbox,
} from './args.js';
export { API_RETRY_CODE, AGENT_WARNING_CODE, SHELL_TOOL, FILE_CHANGE_TOOL } from './mapper.js';
export type { CodexEvent } from './jsonl.js';
