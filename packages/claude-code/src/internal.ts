/**
 * @forge/claude-code/internal — the adapter's parts, for the other Forge packages and the repository's
 * benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/claude-code` (and `@forge/claude-code/testing` in tests) only.
 */
export { buildClaudeArgs, type ClaudeArgsDefaults } from './args.js';
export {
  parseStreamJson,
  StreamJsonParser,
  DEFAULT_MAX_LINE_BYTES,
  type ClaudeMessage,
  type StreamJsonItem,
  type StreamJsonOptions,
} from './stream-json.js';
export { ClaudeEventMapper, mapClaudeMessage, resultOutcome, apiRetryEvent, toUsage } from './mapper.js';
export { probeClaudeVersion, type VersionProbe } from './version.js';
export { claudeCodeDeclaredCapabilities } from './declared-capabilities.js';
export { claudeCodeProviderNotes } from './provider-notes.js';
