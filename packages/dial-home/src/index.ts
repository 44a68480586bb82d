export { createAgentHub, type AgentHub, type HubHandlerOptions, type NodeHandlerFn } from './hub.js';
// The hub's options, its two read limits and the enrolment token's types: all the file holds.
export * from './agent-hub-options.js';
export type { ListenOptions, HubServer } from './hub-server.js';
export type { AgentInfo, AgentStatus } from './agent-info.js';
export type { DetachedRunLimits } from './carried-run.js';
export type { HubMessage, HubMessageHandler } from './subscriptions.js';
export { subjectToken, subjects } from './subject.js';
export { dialHome, type DialHome, type DialHomeOptions, type DialHomeStatus } from './dial-home.js';
export type { BackoffOptions } from '@forge/core';
export {
  memoryAgentPresence,
  type AgentPresence,
  type HeldSession,
  type PresenceRecord,
  type SessionVerdict,
} from './agent-presence.js';
export {
  memoryCredentialStore,
  type AgentRecord,
  type CredentialStore,
  type EnrolOutcome,
} from './credential-store.js';
export { jsonFileCredentialStore } from './json-file-store.js';
export type { StoredCredential } from './credential-file.js';
export type { EnrolmentTokenPayload, HubSecret } from './enrolment-token.js';
export { DialHomeCodes } from './errors.js';
export type { AgentLogsReadOptions } from './hub-log-streams.js';
export type { AgentLogSource } from './agent-log-server.js';
export { logRing, type LogRing } from './log-ring.js';
export { DIAL_HOME_VERSION } from './version.js';
/** The generated protocol (AgentHubService and its messages), for agents written against it directly. */
export * as dialHomeProto from './gen/forge/dialhome/v1/dialhome_pb.js';
