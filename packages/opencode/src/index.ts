export { opencode, OPENCODE_PROVIDER, type OpencodeOptions } from './agent.js';
export { startOpencodeServer, type StartOpencodeServerOptions, type OpencodeServer } from './server.js';
export type { FetchLike, PermissionRule } from './client.js';
export type { ReconnectOptions, Sleep } from './turn.js';
