export {
  CLAUDE_PASS_ENV,
  claudeCode,
  PROVIDER,
  type ClaudeCodeOptions,
  type SpareProcessAgent,
} from './agent.js';
export type { Spare, SpareEnd } from './spare-processes.js';
export { API_RETRY_CODE } from './mapper.js';
export type { ClaudeMessage } from './stream-json.js';
