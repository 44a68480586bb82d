export { CodexErrorCode } from './error-codes.js';
export { codex, CODEX_PASS_ENV, PROVIDER, type CodexOptions } from './agent.js';
export {
  CODEX_SANDBOXES,
  type CodexConfigValue,
  type CodexModelProvider,
  type CodexSandbox,
} from './args.js';
export { API_RETRY_CODE, AGENT_WARNING_CODE, SHELL_TOOL, FILE_CHANGE_TOOL } from './mapper.js';
export type { CodexEvent } from './jsonl.js';
