import { defaultCapabilities, type AgentCapabilities, type Declaration } from './agent.js';
import { REQUEST_FEATURES, type RequestFeature } from './request-features.js';

/**
 * The request features the relay wires (agent.proto, the dial-home link) do not carry: refused up front. None
 * since agent.proto carries mcpServers, outputSchema, effort, approvals, questions, budget and fork; kept so a
 * feature added to core before the wire learns it has one place to be listed.
 */
export const UNRELAYED_FEATURES: readonly RequestFeature[] = [];

/** Run features besides request fields that the remote agent decides: `run.steer()` and session export. */
const RELAYED_RUN_FEATURES: readonly (keyof AgentCapabilities)[] = ['steering', 'sessionPortability'];

/**
 * What a relay (`grpcAgent`, a dialled-home agent) declares: the fields its wire carries are the remote agent's to
 * honour or refuse (it refuses them before work, on its side, with UNSUPPORTED_FIELD), and those it cannot carry
 * are refused here — sent on, they would be dropped, and a dropped field is an ignored one. `capabilities()` of a
 * relay reports the remote agent's own declaration.
 */
export function relayDeclaration(): Declaration {
  const unrelayed = new Set<string>(UNRELAYED_FEATURES);
  return {
    capabilities: defaultCapabilities({ steering: false, sessionPortability: false }),
    probed: [...REQUEST_FEATURES.filter((f) => !unrelayed.has(f)), ...RELAYED_RUN_FEATURES],
  };
}
