/**
 * @forge/transport-grpc/internal — conversions between core's types and the protocol's messages, and the
 * error mapping of a Connect link, shared with @forge/dial-home (which carries the same messages over its own
 * link).
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
export { toForgeError, forgeErrorFromInfo, errorInfoFromError } from './errors.js';
