import { agentState, type AgentRecord } from '../backends/backend.js';
import { presentFields } from './present-fields.js';

/** The API's JSON for an agent (snake_case, as the issue lists it). */
export function agentJson(agent: AgentRecord, extra: Record<string, unknown> = {}) {
  return {
    user_id: agent.userId,
    agent_id: agent.agentId,
    provider: agent.provider,
    ...presentFields({ pod_name: agent.podName, pod_ip: agent.podIp, image: agent.image }),
    phase: agent.phase,
    ready: agent.ready,
    state: agentState(agent),
    created_at: new Date(agent.createdAt).toISOString(),
    ...extra,
  };
}
