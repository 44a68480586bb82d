export { CLAUDE_PASS_ENV, claudeCode, PROVIDER, type ClaudeCodeOptions } from './agent.js';
export { API_RETRY_CODE } from './mapper.js';
export type { ClaudeMessage } from './stream-json.js';
