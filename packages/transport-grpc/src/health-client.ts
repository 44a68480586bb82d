import { createClient, type Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from './gen/grpc/health/v1/health_pb.js';

export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

/**
 * grpc.health.v1 Check against a server: "SERVING" when it takes runs. Throws (a ConnectError)
 * when it cannot be reached. For probes, readiness gates and scripts.
 */
export async function checkHealth(
  baseUrl: string,
  options: {
    service?: string;
    timeoutMs?: number;
    transport?: Transport;
    /** For https: a CA to trust, or `rejectUnauthorized: false` for a probe of the local pod. */
    tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  } = {},
): Promise<HealthStatus> {
  const transport =
    options.transport ?? createGrpcTransport({ baseUrl, ...(options.tls ? { nodeOptions: { ...options.tls } } : {}) });
  const res = await createClient(Health, transport).check(
    { service: options.service ?? '' },
    { timeoutMs: options.timeoutMs ?? 5_000 },
  );
  return (ServingStatus[res.status] as HealthStatus | undefined) ?? 'UNKNOWN';
}
