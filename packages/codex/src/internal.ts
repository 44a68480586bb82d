/**
 * @forge/codex/internal — the adapter's parts (argument building, the JSONL parser, the event mapper, the
 * version probe), for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/codex` (and `@forge/codex/testing` in tests) only.
 */
export { exitError } from './agent.js';
export {
  assertSupported,
  buildCodexArgs,
  providerConfigArgs,
  sandboxFor,
  tomlString,
  tomlValue,
  DEFAULT_ENV_KEY,
  DEFAULT_PROVIDER_ID,
  type CodexArgsDefaults,
} from './args.js';
export {
  CodexJsonlParser,
  parseCodexJsonl,
  DEFAULT_MAX_LINE_BYTES,
  type CodexEvent,
  type CodexJsonlItem,
  type CodexJsonlOptions,
} from './jsonl.js';
export { CodexEventMapper, mapCodexEvent, classifyApiError, toUsage, type ApiFailure } from './mapper.js';
export { probeCodexVersion, type VersionProbe } from './version.js';
export { codexDeclaredCapabilities } from './declared-capabilities.js';
export { codexProviderNotes } from './provider-notes.js';
export { JsonRpcClient, type JsonRpcHandlers } from './app-server/json-rpc-client.js';
export { TurnMapper } from './app-server/turn-mapper.js';
