import { defaultCapabilities, type Declaration } from './agent.js';
import { REQUEST_FEATURES, type RequestFeature } from './request-features.js';

/** The request features the relay wires (agent.proto, the dial-home link) do not carry yet: refused up front. */
export const UNRELAYED_FEATURES = [
  'mcpServers',
  'structuredOutput',
  'effort',
  'approvals',
  'questionDeadlines',
  'budget',
  'fork',
] as const satisfies readonly RequestFeature[];

/**
 * What a relay (`grpcAgent`, a dialled-home agent) declares: the fields its wire carries are the remote agent's to
 * honour or refuse (it refuses them before work, on its side), and those it cannot carry are refused here —
 * sent on, they would be dropped, and a dropped field is an ignored one.
 */
export function relayDeclaration(): Declaration {
  const unrelayed = new Set<string>(UNRELAYED_FEATURES);
  return {
    capabilities: defaultCapabilities({ steering: false, sessionPortability: false }),
    probed: REQUEST_FEATURES.filter((f) => !unrelayed.has(f)),
  };
}
