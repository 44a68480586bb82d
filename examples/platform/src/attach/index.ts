// `@forge/example-platform/attach`: what the attach benchmark builds a bare attach endpoint from.
export { AttachService } from './attach-service.js';
export { ApiKeyStore, parseApiKeyList } from '../api-keys.js';
export type { AgentBackend, AgentRecord } from '../backends/backend.js';
export { listen } from '../http/listen.js';
