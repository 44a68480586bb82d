/** Reported by GetStatus; kept in step with package.json. */
export const TRANSPORT_GRPC_VERSION = '0.1.0';
