export { acpAgent, ACP_PROVIDER, type AcpAgentOptions } from './agent.js';
export {
  geminiCli,
  geminiSettings,
  writeGeminiSettings,
  claudeCodeAcp,
  GEMINI_MODES,
  type GeminiCliOptions,
  type GeminiSettingsOptions,
  type ClaudeCodeAcpOptions,
} from './presets.js';
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
export { localFileSystem, type AcpFileSystem, type LocalFileSystemOptions } from './file-system.js';
export { tapUpdates } from './agent-process.js';
export { ACP_ERROR_CODES, fromRpcError, stopReasonCode } from './errors.js';
