export { CODEX_PASS_ENV, codex, exitError, PROVIDER, type CodexOptions } from './agent.js';
export {
  assertSupported,
  buildCodexArgs,
  sandboxFor,
  tomlString,
  tomlValue,
  CODEX_SANDBOXES,
  DEFAULT_ENV_KEY,
  DEFAULT_PROVIDER_ID,
  type CodexArgsDefaults,
  type CodexConfigValue,
  type CodexModelProvider,
  type CodexSandbox,
} from './args.js';
export {
  CodexJsonlParser,
  parseCodexJsonl,
  DEFAULT_MAX_LINE_BYTES,
  type CodexEvent,
  type CodexJsonlItem,
  type CodexJsonlOptions,
} from './jsonl.js';
export {
  CodexEventMapper,
  mapCodexEvent,
  classifyApiError,
  toUsage,
  API_RETRY_CODE,
  AGENT_WARNING_CODE,
  SHELL_TOOL,
  FILE_CHANGE_TOOL,
  type ApiFailure,
} from './mapper.js';
export { probeCodexVersion, type VersionProbe } from './version.js';
