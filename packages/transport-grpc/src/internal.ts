/**
 * @forge/transport-grpc/internal — conversions between core's types and the protocol's messages, shared with
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
export { forgeErrorFromInfo, errorInfoFromError } from './errors.js';
