import type { ServiceImpl } from '@connectrpc/connect';
import { ForgeError } from '@forge/core';
import { capabilitiesToProto } from './convert-request.js';
import { drainRuns } from './drain-runs.js';
import { forgeErrorToConnect } from './errors.js';
import type { ServiceState } from './service-state.js';
import { TRANSPORT_GRPC_VERSION } from './version.js';
import type { WireAgentService } from './wire-service.js';

type Handlers = Pick<ServiceImpl<WireAgentService>, 'getStatus' | 'shutdown'>;

/** The unary RPCs about the server itself: its status, and a drain-then-shutdown on request. */
export function statusHandlers(state: ServiceState): Handlers {
  const { agent, options } = state;
  return {
    async getStatus() {
      let capabilities: ReturnType<typeof capabilitiesToProto>;
      try {
        capabilities = capabilitiesToProto(await agent.capabilities());
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      return {
        provider: agent.provider,
        capabilities,
        runsInFlight: state.live.size,
        uptimeMs: state.clock.now() - state.startedAt,
        version: TRANSPORT_GRPC_VERSION,
        draining: state.draining,
      };
    },
    async shutdown(req) {
      if (options.allowShutdown === false) {
        throw forgeErrorToConnect(
          new ForgeError('SHUTDOWN_DISABLED', 'This server does not take Shutdown calls', 'unsupported'),
        );
      }
      const graceMs = req.graceMs ?? state.defaultGraceMs;
      const result = await drainRuns(state, { graceful: req.graceful, graceMs });
      // After this answer is on its way: the hook may close the server this call runs on.
      setImmediate(() => options.onShutdown?.({ graceful: req.graceful, graceMs }));
      return { runsFinished: result.finished, runsCancelled: result.cancelled };
    },
  };
}
