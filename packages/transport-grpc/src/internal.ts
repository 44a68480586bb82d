/**
 * @forge/transport-grpc/internal — conversions between core's types and the protocol's messages, the
 * hand-written event codec and its wire primitives, and the error mapping of a Connect link, shared with
 * @forge/dial-home (which carries the same messages over its own link).
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/transport-grpc` only.
 */
export {
  requestToProto,
  requestFromProto,
  capabilitiesToProto,
  capabilitiesFromProto,
  decisionToProto,
  decisionFromProto,
} from './convert-request.js';
export { listen, type Listening } from './listen.js';
export { closeGracefully } from './close-gracefully.js';
export { applyRunReply, type RunReply } from './run-reply.js';
export { attachedRunGrants, attachedRunStart, detachedRunEnd } from './attached-run.js';
export { PROTOCOL_REVISION, SESSION_STORE_REVISION, fieldsBeyondRevision } from './protocol-revision.js';
export { SessionCallClient } from './session-call-client.js';
export { RunSessionChannel } from './run-session-channel.js';
export { SessionGrants } from './session-grants.js';
export { toForgeError, forgeErrorFromInfo, errorInfoFromError } from './errors.js';
export { encodeBatch, decodeBatch } from './event-codec.js';
export { ProtoReader, ProtoWriter, WireType, asBuffer, lenFieldSize, tagOf, varintSize } from './proto-wire.js';
/** A raw HTTP/2 gRPC call that announces a body larger than it sends: what read-limit tests of every server use. */
export { oversizedGrpcCall, type GrpcAnswer } from './oversized-grpc-call.js';
export { grpcAgentProviderNotes } from './provider-notes.js';
