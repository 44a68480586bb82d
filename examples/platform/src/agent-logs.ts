import type { AgentBackend } from './backends/backend.js';
import type { AgentLogSource } from './http/agent-logs-routes.js';
import type { RemoteAgents } from './remote-agents.js';

/**
 * Where `GET /agents/:id/logs` reads: an agent created on an enrolled remote agent is read over its dial-home
 * link (its program's own lines; AGENT_OFFLINE when it is not connected to this replica's hub), every other
 * from the backend (the local program's stderr, the pod's log).
 */
export function platformAgentLogs(
  backend: AgentBackend,
  remote: () => Pick<RemoteAgents, 'agentIdOf' | 'hub'> | undefined,
): AgentLogSource {
  return (agent, options) => {
    const hub = remote();
    const remoteId = hub?.agentIdOf(agent.provider);
    if (hub && remoteId) return hub.hub.logs(remoteId, options);
    return backend.logs?.(agent, options);
  };
}
