export { opencode, OPENCODE_PROVIDER, type OpencodeOptions } from './agent.js';
export {
  OPENCODE_PASS_ENV,
  startOpencodeServer,
  type OpencodeServer,
  type StartOpencodeServerOptions,
} from './server.js';
export type { FetchLike, PermissionRule } from './client.js';
export type { ReconnectOptions, Sleep } from './turn.js';
