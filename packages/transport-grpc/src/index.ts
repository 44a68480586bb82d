export { DEFAULT_READ_MAX_BYTES, serveAgent, type AgentServer, type ServeAgentOptions } from './serve.js';
export {
  createAgentServiceRoutes,
  type AgentServiceOptions,
  type AgentServiceRoutes,
  type DrainOptions,
  type DrainResult,
} from './routes.js';
export { bearerToken, requireBearerToken } from './auth.js';
export {
  grpcAgent,
  type AttachOptions,
  type GrpcAgent,
  type GrpcAgentOptions,
  type RemoteAgentStatus,
} from './client.js';
export {
  linkedSessionStore,
  type LinkedSessionStore,
  type LinkedSessionStoreOptions,
} from './linked-session-store.js';
export type { SessionCallChannel } from './session-call-client.js';
export { eventToProto, eventFromProto, resultToProto, resultFromProto } from './convert-event.js';
export { encodeEvent, decodeEvent } from './event-codec.js';
export { TransportCodes, forgeErrorFromConnect, forgeErrorToConnect, runError } from './errors.js';
export { HealthState, ServingStatus } from './health.js';
export { checkHealth, type HealthStatus } from './health-client.js';
export { TRANSPORT_GRPC_VERSION } from './version.js';
/** The generated protocol (messages, enums, AgentService), for hosts that speak it directly. */
export * as proto from './gen/forge/agent/v1/agent_pb.js';
export * as healthProto from './gen/grpc/health/v1/health_pb.js';
