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
export { localFileSystem, type AcpFileSystem, type LocalFileSystemOptions } from './file-system.js';
export { ACP_ERROR_CODES } from './errors.js';
