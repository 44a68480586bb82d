/**
 * @forge/acp/internal — the adapter's parts (the session/update mapper, the stdout tap, permission option
 * picking, prompt blocks, error mapping), for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/acp` (and `@forge/acp/testing` in tests) only.
 */
export {
  SessionUpdateMapper,
  parseSessionNotification,
  promptUsage,
  contentText,
  toolName,
  toolInput,
  type SessionNotificationParams,
  type SessionUpdateLike,
  type ToolCallLike,
} from './mapper.js';
export { pickPermissionOption, type PermissionOptionLike } from './permissions.js';
export { promptBlocks } from './prompt.js';
export { tapUpdates } from './agent-process.js';
export { fromRpcError, stopReasonCode } from './errors.js';
export { acpDeclaredCapabilities, ACP_PROBED_CAPABILITIES } from './declared-capabilities.js';
export { acpProviderNotes } from './provider-notes.js';
