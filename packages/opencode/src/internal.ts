/**
 * @forge/opencode/internal — the adapter's parts (HTTP client, SSE framing, turn mapping, the OpenCode
 * server's schemas), for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/opencode` (and `@forge/opencode/testing` in tests) only.
 */
export { freePort } from './server.js';
export {
  OpencodeClient,
  type OpencodeClientOptions,
  type PermissionReply,
  type PromptBody,
  type CreateSessionBody,
} from './client.js';
export {
  TurnMapper,
  peekType,
  errorCode,
  errorMessage,
  errorRetryable,
  type Emit,
  type FrameSignal,
} from './mapper.js';
export { createFrameDecoder, readFrames, StreamDropped } from './event-stream.js';
export { abortableSleep } from './turn.js';
export * from './schemas.js';
export { httpStatusError, unreachableError } from './http-errors.js';
