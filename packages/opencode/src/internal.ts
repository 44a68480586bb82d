/**
 * @forge/opencode/internal — the adapter's parts (HTTP client, SSE framing, turn mapping, the OpenCode
 * server's schemas), for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/opencode` (and `@forge/opencode/testing` in tests) only.
 */
export {
  OpencodeClient,
  type OpencodeClientOptions,
  type PermissionReply,
  type PromptBody,
  type CreateSessionBody,
} from './client.js';
export { TurnMapper, type Emit, type FrameSignal } from './turn-mapper.js';
export { peekType } from './frame-peek.js';
export { errorCode, errorMessage, errorRetryable } from './error-info.js';
export { createFrameDecoder, readFrames, StreamDropped } from './event-stream.js';
export { abortableSleep } from './turn.js';
export * from './schemas.js';
export { httpStatusError, unreachableError } from './http-errors.js';
export { opencodeDeclaredCapabilities } from './declared-capabilities.js';
export { opencodeProviderNotes } from './provider-notes.js';
