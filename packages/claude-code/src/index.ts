export { CLAUDE_PASS_ENV, claudeCode, PROVIDER, type ClaudeCodeOptions } from './agent.js';
export { buildClaudeArgs, type ClaudeArgsDefaults } from './args.js';
export {
  parseStreamJson,
  StreamJsonParser,
  DEFAULT_MAX_LINE_BYTES,
  type ClaudeMessage,
  type StreamJsonItem,
  type StreamJsonOptions,
} from './stream-json.js';
export {
  ClaudeEventMapper,
  mapClaudeMessage,
  resultOutcome,
  apiRetryEvent,
  toUsage,
  API_RETRY_CODE,
} from './mapper.js';
export { probeClaudeVersion, type VersionProbe } from './version.js';
