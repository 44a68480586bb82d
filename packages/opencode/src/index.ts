export { opencode, OPENCODE_PROVIDER, type OpencodeOptions } from './agent.js';
export {
  freePort,
  OPENCODE_PASS_ENV,
  startOpencodeServer,
  type OpencodeServer,
  type StartOpencodeServerOptions,
} from './server.js';
export {
  OpencodeClient,
  type OpencodeClientOptions,
  type FetchLike,
  type PermissionRule,
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
export { abortableSleep, type ReconnectOptions, type Sleep } from './turn.js';
export * from './schemas.js';
export { httpStatusError, unreachableError } from './http-errors.js';
