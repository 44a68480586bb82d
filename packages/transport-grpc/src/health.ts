import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from './gen/grpc/health/v1/health_pb.js';

export { ServingStatus };

/**
 * The state behind the standard gRPC health service (grpc.health.v1.Health): one status per
 * service name, "" being the server as a whole.
 */
export class HealthState {
  private statuses = new Map<string, ServingStatus>();
  private watchers = new Set<() => void>();
  private closed = false;

  constructor(services: string[]) {
    for (const s of ['', ...services]) this.statuses.set(s, ServingStatus.SERVING);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets every known service (and the server) to the status. */
  setAll(status: ServingStatus): void {
    for (const key of this.statuses.keys()) this.statuses.set(key, status);
    for (const w of this.watchers) w();
  }

  /** Ends every Watch call, so a closing server is not held open by watchers. */
  close(): void {
    this.closed = true;
    for (const w of this.watchers) w();
  }

  routes(router: ConnectRouter): void {
    const state = this;
    router.service(Health, {
      check: (req) => {
        const status = this.get(req.service);
        if (status === undefined) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
        return create(HealthCheckResponseSchema, { status });
      },
      watch: async function* (this: void, req, ctx) {
        // Sends the current status, then each change, until the caller leaves or the server closes.
        let last: ServingStatus | undefined;
        let dirty = true;
        let wake: (() => void) | undefined;
        const onChange = () => {
          dirty = true;
          wake?.();
        };
        state.watchers.add(onChange);
        ctx.signal.addEventListener('abort', onChange, { once: true });
        try {
          while (!ctx.signal.aborted) {
            // `dirty` is checked before waiting, so a change made while a message was being
            // written is not missed.
            if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            dirty = false;
            const status = state.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
            if (status !== last) {
              last = status;
              yield create(HealthCheckResponseSchema, { status });
            }
            if (state.closed) return;
          }
        } finally {
          state.watchers.delete(onChange);
          ctx.signal.removeEventListener('abort', onChange);
        }
      },
    });
  }
}
