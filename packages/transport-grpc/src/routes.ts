import type { ConnectRouter } from '@connectrpc/connect';
import type { CodeAgent } from '@forge/core';
import type { AgentServiceOptions, DrainOptions, DrainResult } from './agent-service-options.js';
import { connectHandler } from './connect-handler.js';
import { drainRuns } from './drain-runs.js';
import { executeHandler } from './execute-handler.js';
import type { HealthState } from './health.js';
import { runCommandHandlers } from './run-command-handlers.js';
import { ServiceState } from './service-state.js';
import { statusHandlers } from './status-handlers.js';
import { WireAgentService } from './wire-service.js';

export type { AgentServiceOptions, DrainOptions, DrainResult } from './agent-service-options.js';

/** Mount on a ConnectRouter (`connectNodeAdapter({ routes })`); also controls the served runs. */
export interface AgentServiceRoutes {
  (router: ConnectRouter): void;
  readonly agent: CodeAgent;
  readonly runsInFlight: number;
  readonly draining: boolean;
  readonly health: HealthState;
  /** Refuses new runs, lets live ones finish or cancels them, and ends idle streams. Idempotent. */
  drain(options?: DrainOptions): Promise<DrainResult>;
  /** Resolves once every response stream this router serves has ended. */
  streamsIdle(): Promise<void>;
}

/**
 * The AgentService (and, by default, the gRPC health service) for one CodeAgent, as routes for a
 * host's own Connect router. `serveAgent` wraps this in an HTTP/2 server. Each RPC lives in its own
 * file (connect-handler.ts, execute-handler.ts, run-command-handlers.ts, status-handlers.ts); what they
 * share is one ServiceState.
 */
export function createAgentServiceRoutes(agent: CodeAgent, options: AgentServiceOptions = {}): AgentServiceRoutes {
  const state = new ServiceState(agent, options);
  const routes = ((router: ConnectRouter) => {
    router.service(WireAgentService, {
      connect: connectHandler(state),
      execute: executeHandler(state),
      ...runCommandHandlers(state),
      ...statusHandlers(state),
    });
    if (options.health !== false) state.health.routes(router);
  }) as AgentServiceRoutes;

  Object.defineProperties(routes, {
    agent: { value: agent },
    runsInFlight: { get: () => state.live.size },
    draining: { get: () => state.draining },
    health: { value: state.health },
  });
  routes.drain = (opts) => drainRuns(state, opts);
  routes.streamsIdle = () => state.streamsIdle();
  return routes;
}
